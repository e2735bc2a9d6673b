package properties_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/resdll/resdll/properties"
)

// R51: the four control codes of private properties, as functions the
// monitor routes to: get, get read-only, validate, set; JSON in, JSON out.
func TestHandlers(t *testing.T) {
	ctx := context.Background()
	a := newApp()
	m, store := newManager(t, a)
	_, err := m.Set(ctx, "SMTP-1", vals(t, map[string]any{"VirtualServer": "SMTP-1", "Certificate": []byte{0xde, 0xad}}),
		properties.SetOptions{AllowReadOnly: true})
	require.NoError(t, err)

	out, err := m.HandleGet(ctx, "SMTP-1")
	require.NoError(t, err)
	assert.JSONEq(t, `{"VirtualServer":"SMTP-1","Port":25,"Protocols":["smtp"],"Verbose":false,"Timeout":"30s"}`, string(out))

	out, err = m.HandleGetReadOnly(ctx, "SMTP-1")
	require.NoError(t, err)
	assert.JSONEq(t, `{"Certificate":"3q0="}`, string(out))

	// Validate: the effective values the set would leave; nothing stored.
	before := snapshot(t, store, "SMTP-1")
	out, err = m.HandleValidate(ctx, "SMTP-1", []byte(`{"port":587,"Timeout":"1m"}`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"VirtualServer":"SMTP-1","Port":587,"Protocols":["smtp"],"Verbose":false,"Timeout":"1m0s","Certificate":"3q0="}`, string(out))
	requireSameSnapshot(t, before, snapshot(t, store, "SMTP-1"))

	// Set: stored, pushed, applied.
	out, err = m.HandleSet(ctx, "SMTP-1", []byte(`{"Port":587}`), func(context.Context, properties.Values) error { return nil })
	require.NoError(t, err)
	var ans properties.SetAnswer
	require.NoError(t, json.Unmarshal(out, &ans))
	assert.Equal(t, "applied", ans.Outcome)
	assert.True(t, ans.Synced)
	assert.JSONEq(t, `{"VirtualServer":"SMTP-1","Port":587,"Protocols":["smtp"],"Verbose":false,"Timeout":"30s","Certificate":"3q0="}`, string(ans.Values))
	p, _ := a.get("SMTP-1").GetUint32("Port")
	assert.Equal(t, uint32(587), p)
}

// R58: the set's answer carries "stored, takes effect at next Online", in
// its JSON and as an error wrapping ErrStored; R54: and a failed hook.
func TestHandleSetStoredAndOutOfSync(t *testing.T) {
	ctx := context.Background()
	a := newApp()
	m, _ := newManager(t, a)
	a.setFail(errors.New("app down"))
	out, err := m.HandleSet(ctx, "S", []byte(`{"VirtualServer":"S","Port":2525}`), func(context.Context, properties.Values) error {
		return fmt.Errorf("Port is not reloadable: %w", properties.ErrStored)
	})
	require.ErrorIs(t, err, properties.ErrStored)
	require.ErrorIs(t, err, properties.ErrOutOfSync)
	var ans properties.SetAnswer
	require.NoError(t, json.Unmarshal(out, &ans))
	assert.Equal(t, "stored", ans.Outcome)
	assert.Contains(t, ans.Reason, "not reloadable")
	assert.False(t, ans.Synced)
	assert.Contains(t, ans.SyncError, "app down")
	stored, _ := m.Stored(ctx, "S")
	port, _ := stored.GetUint32("Port")
	assert.Equal(t, uint32(2525), port)
}

// R52, R59: bad input to set or validate returns every problem at once,
// decoding and validation problems together, and changes nothing.
func TestHandleSetBadInput(t *testing.T) {
	ctx := context.Background()
	a := newApp()
	m, store := newManager(t, a)
	before := snapshot(t, store, "S")
	applied := false
	apply := func(context.Context, properties.Values) error { applied = true; return nil }

	_, err := m.HandleSet(ctx, "S", []byte(`{"Port":"twenty-five","Mode":"standby","Certificate":"AA==","Nope":1}`), apply)
	require.ErrorIs(t, err, properties.ErrInvalid)
	got := problems(err)
	assert.Contains(t, got["Port"].Error(), "not a whole number")
	assert.Contains(t, got["Mode"].Error(), "not an allowed value")
	assert.Contains(t, got["Certificate"].Error(), "read-only")
	assert.Contains(t, got["Nope"].Error(), "unknown property")
	assert.Contains(t, got["VirtualServer"].Error(), "required")
	assert.Len(t, got, 5)

	// A required property whose value did not decode is reported once.
	_, err = m.HandleSet(ctx, "S", []byte(`{"VirtualServer":7}`), apply)
	require.ErrorIs(t, err, properties.ErrInvalid)
	assert.Contains(t, problems(err)["VirtualServer"].Error(), "a number, not a string")
	assert.NotContains(t, err.Error(), "required")

	for _, in := range []string{`nonsense`, `[1]`, ``} {
		out, err := m.HandleSet(ctx, "S", []byte(in), apply)
		require.ErrorIs(t, err, properties.ErrInvalid)
		assert.Nil(t, out)
		_, err = m.HandleValidate(ctx, "S", []byte(in))
		require.ErrorIs(t, err, properties.ErrInvalid)
	}
	_, err = m.HandleValidate(ctx, "S", []byte(`{"Port":0}`))
	require.ErrorIs(t, err, properties.ErrInvalid)

	requireSameSnapshot(t, before, snapshot(t, store, "S"))
	assert.Empty(t, a.pushes)
	assert.False(t, applied)
}
