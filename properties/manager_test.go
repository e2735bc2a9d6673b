package properties_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/properties/storetest"
)

// R57: the in-memory store keeps the Store contract (the bbolt store runs
// the same suite in its own package).
func TestMemStoreContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) properties.Store { return properties.NewMemStore() })
}

func TestNewManagerRefusesBadOptions(t *testing.T) {
	_, err := properties.NewManager(properties.Options{})
	require.ErrorIs(t, err, properties.ErrInvalid)
	assert.ErrorContains(t, err, "Options.Store")

	_, err = properties.NewManager(properties.Options{Store: properties.NewMemStore(), Namespace: " bad"})
	require.ErrorIs(t, err, properties.ErrInvalid)
	assert.ErrorContains(t, err, "Options.Namespace")

	m, err := properties.NewManager(properties.Options{Store: properties.NewMemStore()})
	require.NoError(t, err)
	assert.Equal(t, properties.Parameters, m.Namespace(), "zero Namespace means Parameters")
}

// R50: the effective values are the schema's defaults with the stored
// values on top; names the schema no longer declares stay stored but are
// not effective.
func TestEffectiveAppliesDefaults(t *testing.T) {
	ctx := context.Background()
	m, store := newManager(t, nil)
	_, err := m.Set(ctx, "SMTP-1", vals(t, map[string]any{"VirtualServer": "SMTP-1", "Port": uint32(587)}), properties.SetOptions{})
	require.NoError(t, err)
	require.NoError(t, store.Update(ctx, func(tx properties.Tx) error {
		v, err := tx.Get("SMTP-1", properties.Parameters)
		if err != nil {
			return err
		}
		_ = v.Set("Retired", "old schema")
		return tx.Put("SMTP-1", properties.Parameters, v)
	}))

	eff, err := m.Effective(ctx, "SMTP-1")
	require.NoError(t, err)
	want := vals(t, map[string]any{"VirtualServer": "SMTP-1", "Port": uint32(587), "Protocols": []string{"smtp"},
		"Verbose": false, "Timeout": 30 * time.Second})
	assert.True(t, eff.Equal(want), "effective = %v", eff.Names())

	stored, err := m.Stored(ctx, "SMTP-1")
	require.NoError(t, err)
	assert.Equal(t, []string{"Port", "Retired", "VirtualServer"}, stored.Names(), "stored values as they are, nothing lost")
}

// R52: one set with every kind of problem reports them all at once, each
// naming the property, what was wrong and what is allowed; nothing is
// stored.
func TestValidationReportsEveryProblem(t *testing.T) {
	ctx := context.Background()
	m, store := newManager(t, nil)
	before := snapshot(t, store, "SMTP-1")
	update := vals(t, map[string]any{
		"Bogus":       "x",            // unknown name
		"Port":        uint32(0),      // out of range
		"Protocols":   "smtp",         // wrong kind
		"Mode":        "standby",      // not an allowed value
		"Certificate": []byte{1},      // read-only
		"Hostname":    "mail host",    // the validator refuses
		"Instance":    int64(-6),      // below Min
		"Timeout":     2 * time.Hour,  // above Max
		"MaxMessage":  "big",          // wrong kind
		"Verbose":     []byte("true"), // wrong kind
		"BadName\x00": "x",            // unprintable name (R59)
		"instance":    int64(0),       // the same property twice
		strings.Repeat("N", properties.MaxNameLength+1): "x", // name too long (R59)
	})
	// VirtualServer is required and has no value: missing required.
	_, err := m.Set(ctx, "SMTP-1", update, properties.SetOptions{})
	require.Error(t, err)
	require.ErrorIs(t, err, properties.ErrInvalid)

	got := problems(err)
	wants := map[string][]string{
		"Bogus":         {"unknown property", "one of VirtualServer, Port"},
		"Port":          {"out of range", "1 to 65535"},
		"Protocols":     {"kind string, not multi-string", "a value of kind multi-string"},
		"Mode":          {"not an allowed value", "one of active, passive"},
		"Certificate":   {"read-only"},
		"Hostname":      {"white space", "a DNS host name"},
		"Instance":      {"out of range", "-5 or more"},
		"Timeout":       {"out of range", "1s to 1h0m0s"},
		"MaxMessage":    {"not uint64", "a value of kind uint64"},
		"Verbose":       {"kind binary, not bool"},
		"BadName\x00":   {"unprintable"},
		"VirtualServer": {"required", "a value of kind string"},
	}
	for name, subs := range wants {
		pe, ok := got[name]
		if !assert.True(t, ok, "no problem reported for %q in:\n%v", name, err) {
			continue
		}
		for _, s := range subs {
			assert.Contains(t, pe.Error(), s, name)
		}
	}
	// "Instance" and "instance": the second is reported as given twice.
	assert.Contains(t, err.Error(), "given twice")
	assert.Contains(t, err.Error(), "129 bytes long")
	requireSameSnapshot(t, before, snapshot(t, store, "SMTP-1"))
}

// R52: Validate checks as Set would and stores nothing.
func TestValidateStoresNothing(t *testing.T) {
	ctx := context.Background()
	m, store := newManager(t, nil)
	eff, err := m.Validate(ctx, "SMTP-1", vals(t, map[string]any{"virtualserver": "SMTP-1"}), properties.SetOptions{})
	require.NoError(t, err)
	vs, err := eff.GetString("VirtualServer")
	require.NoError(t, err)
	assert.Equal(t, "SMTP-1", vs, "names match without regard to case and come back as declared")
	assert.Equal(t, 0, store.committed())

	_, err = m.Validate(ctx, "SMTP-1", vals(t, map[string]any{"Port": uint32(25)}), properties.SetOptions{})
	require.ErrorIs(t, err, properties.ErrInvalid)
	assert.Contains(t, problems(err), "VirtualServer", "required is checked against what is stored")
}

// R52: read-only properties are refused to an administrator and allowed to
// the resource type itself.
func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(t, nil)
	upd := vals(t, map[string]any{"VirtualServer": "S", "Certificate": []byte{1, 2}})
	_, err := m.Set(ctx, "S", upd, properties.SetOptions{})
	require.ErrorIs(t, err, properties.ErrInvalid)
	assert.Contains(t, problems(err)["Certificate"].Error(), "read-only")

	_, err = m.Set(ctx, "S", upd, properties.SetOptions{AllowReadOnly: true})
	require.NoError(t, err)
	eff, err := m.Effective(ctx, "S")
	require.NoError(t, err)
	c, err := eff.GetBinary("Certificate")
	require.NoError(t, err)
	assert.Equal(t, []byte{1, 2}, c)
}

// R50: a Unique property's value may not repeat one a peer has stored.
func TestUnique(t *testing.T) {
	ctx := context.Background()
	store := properties.NewMemStore()
	t.Cleanup(func() { _ = store.Close() })
	m, err := properties.NewManager(properties.Options{Store: store, Schema: testSchema(),
		Peers: func(context.Context, string) ([]string, error) { return []string{"A", "B"}, nil }})
	require.NoError(t, err)
	_, err = m.Set(ctx, "A", vals(t, map[string]any{"VirtualServer": "A", "Port": uint32(25)}), properties.SetOptions{})
	require.NoError(t, err)
	_, err = m.Set(ctx, "B", vals(t, map[string]any{"VirtualServer": "B", "Port": uint32(25)}), properties.SetOptions{})
	require.ErrorIs(t, err, properties.ErrInvalid)
	assert.Contains(t, err.Error(), `already used by resource "A"`)
	_, err = m.Set(ctx, "B", vals(t, map[string]any{"VirtualServer": "B", "Port": uint32(26)}), properties.SetOptions{})
	require.NoError(t, err)
	_, err = m.Set(ctx, "A", vals(t, map[string]any{"Verbose": true}), properties.SetOptions{})
	require.NoError(t, err, "a set that does not touch the unique property is not refused")
}

// R53: a set validates, writes every value in one transaction, then calls
// the hook, which finds the values already committed. A failed validation
// or a failed write leaves the store exactly as it was, and calls neither
// the hook nor apply.
func TestSetIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	a := newApp()
	m, store := newManager(t, a)
	first := vals(t, map[string]any{"VirtualServer": "SMTP-1", "Port": uint32(25), "Mode": "active"})
	_, err := m.Set(ctx, "SMTP-1", first, properties.SetOptions{})
	require.NoError(t, err)
	require.Len(t, a.pushes, 1)

	// The hook runs after the commit: it sees the new values stored.
	a.onPush = func(resource string) {
		stored, err := m.Stored(ctx, resource)
		assert.NoError(t, err)
		p, _ := stored.GetUint32("Port")
		assert.Equal(t, uint32(587), p, "the hook must run after the values are committed")
	}
	_, err = m.Set(ctx, "SMTP-1", vals(t, map[string]any{"Port": uint32(587), "Mode": "passive"}), properties.SetOptions{})
	require.NoError(t, err)
	a.onPush = nil
	before := snapshot(t, store, "SMTP-1")
	pushes := len(a.pushes)
	applied := false
	apply := func(context.Context, properties.Values) error { applied = true; return nil }

	// One bad value among good ones: nothing of the set is stored.
	_, err = m.Set(ctx, "SMTP-1", vals(t, map[string]any{"Port": uint32(26), "Mode": "standby"}), properties.SetOptions{Apply: apply})
	require.ErrorIs(t, err, properties.ErrInvalid)
	requireSameSnapshot(t, before, snapshot(t, store, "SMTP-1"))

	// The write fails at commit: nothing is stored.
	store.setFail(errDisk)
	_, err = m.Set(ctx, "SMTP-1", vals(t, map[string]any{"Port": uint32(26), "Mode": "active"}), properties.SetOptions{Apply: apply})
	require.ErrorIs(t, err, errDisk)
	store.setFail(nil)
	requireSameSnapshot(t, before, snapshot(t, store, "SMTP-1"))

	assert.Equal(t, pushes, len(a.pushes), "no push after a failed set")
	assert.False(t, applied, "no apply after a failed set")
	st, err := m.Status(ctx, "SMTP-1")
	require.NoError(t, err)
	assert.False(t, st.OutOfSync)
}

// R53: common properties (the monitor's policy) are stored the same way, in
// their own namespace, beside the private ones.
func TestCommonPropertiesStoredTheSameWay(t *testing.T) {
	ctx := context.Background()
	store := &faultyStore{Store: properties.NewMemStore()}
	t.Cleanup(func() { _ = store.Close() })
	policy := properties.MustSchema(
		properties.Property{Name: "RestartThreshold", Kind: properties.Uint32, Default: uint32(2), Max: uint32(100)},
		properties.Property{Name: "PendingTimeout", Kind: properties.Duration, Default: 180 * time.Second, Min: time.Second},
	)
	common, err := properties.NewManager(properties.Options{Store: store, Schema: policy, Namespace: properties.Common})
	require.NoError(t, err)
	private, err := properties.NewManager(properties.Options{Store: store, Schema: testSchema()})
	require.NoError(t, err)

	_, err = private.Set(ctx, "SMTP-1", vals(t, map[string]any{"VirtualServer": "SMTP-1"}), properties.SetOptions{})
	require.NoError(t, err)
	_, err = common.Set(ctx, "SMTP-1", vals(t, map[string]any{"RestartThreshold": uint32(5)}), properties.SetOptions{})
	require.NoError(t, err)
	before := snapshot(t, store, "SMTP-1")
	_, err = common.Set(ctx, "SMTP-1", vals(t, map[string]any{"RestartThreshold": uint32(101), "PendingTimeout": time.Minute}), properties.SetOptions{})
	require.ErrorIs(t, err, properties.ErrInvalid)
	requireSameSnapshot(t, before, snapshot(t, store, "SMTP-1"))

	ce, err := common.Effective(ctx, "SMTP-1")
	require.NoError(t, err)
	n, _ := ce.GetUint32("RestartThreshold")
	assert.Equal(t, uint32(5), n)
	pe, err := private.Effective(ctx, "SMTP-1")
	require.NoError(t, err)
	assert.False(t, pe.Has("RestartThreshold"), "namespaces do not mix")
	assert.Contains(t, before, "SMTP-1/Common")
	assert.Equal(t, 1, before["SMTP-1/Common"].Len())
}

// R54: when the hook fails the stored values stand, the resource is marked
// out of sync with the error, and Reconcile retries; its success clears
// the mark.
func TestHookFailureMarksOutOfSync(t *testing.T) {
	ctx := context.Background()
	a := newApp()
	m, _ := newManager(t, a)
	errApp := errors.New("EXSETDATA: access denied")
	a.setFail(errApp)

	res, err := m.Set(ctx, "SMTP-1", vals(t, map[string]any{"VirtualServer": "SMTP-1", "Port": uint32(2525)}), properties.SetOptions{})
	require.NoError(t, err, "the values are stored: the set itself succeeded")
	require.ErrorIs(t, res.SyncErr, properties.ErrOutOfSync)
	require.ErrorIs(t, res.SyncErr, errApp)
	require.ErrorIs(t, res.Err(), properties.ErrOutOfSync)

	stored, err := m.Stored(ctx, "SMTP-1")
	require.NoError(t, err)
	p, _ := stored.GetUint32("Port")
	assert.Equal(t, uint32(2525), p, "the stored values stand")

	st, err := m.Status(ctx, "SMTP-1")
	require.NoError(t, err)
	assert.True(t, st.OutOfSync)
	assert.False(t, st.Pending)
	assert.Contains(t, st.Error, "access denied")
	require.ErrorIs(t, st.Err(), properties.ErrOutOfSync)
	names, err := m.OutOfSync(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"SMTP-1"}, names)

	// A retry that fails again keeps the mark, with the new error.
	a.setFail(errors.New("still down"))
	_, err = m.Reconcile(ctx, "SMTP-1", properties.ToApplication, properties.SetOptions{})
	require.ErrorIs(t, err, properties.ErrOutOfSync)
	st, _ = m.Status(ctx, "SMTP-1")
	assert.Contains(t, st.Error, "still down")

	// The retry that works pushes the stored values and clears the mark.
	a.setFail(nil)
	_, err = m.Reconcile(ctx, "SMTP-1", properties.ToApplication, properties.SetOptions{})
	require.NoError(t, err)
	got, _ := a.get("SMTP-1").GetUint32("Port")
	assert.Equal(t, uint32(2525), got)
	st, _ = m.Status(ctx, "SMTP-1")
	assert.False(t, st.OutOfSync)
	require.NoError(t, st.Err())
	names, _ = m.OutOfSync(ctx)
	assert.Empty(t, names)
}

// R54: the push is recorded as pending in the set's own transaction, so a
// process that stops during the push leaves the resource out of sync, not
// silently behind.
func TestPushIsPendingUntilItCompletes(t *testing.T) {
	ctx := context.Background()
	a := newApp()
	m, store := newManager(t, a)
	var during properties.SyncStatus
	a.onPush = func(resource string) {
		// A second Manager on the same store is what a restarted
		// process would see if this one stopped now.
		other, err := properties.NewManager(properties.Options{Store: store, Schema: testSchema(), Hook: a})
		assert.NoError(t, err)
		during, err = other.Status(ctx, resource)
		assert.NoError(t, err)
	}
	_, err := m.Set(ctx, "SMTP-1", vals(t, map[string]any{"VirtualServer": "SMTP-1"}), properties.SetOptions{})
	require.NoError(t, err)
	assert.True(t, during.OutOfSync, "while the push runs, the store says out of sync")
	assert.True(t, during.Pending)
	require.ErrorIs(t, during.Err(), properties.ErrOutOfSync)
	after, err := m.Status(ctx, "SMTP-1")
	require.NoError(t, err)
	assert.False(t, after.OutOfSync)
}

// R54: a panicking hook is a failed hook; a cancelled context still records
// the failure.
func TestHookPanicAndCancel(t *testing.T) {
	a := newApp()
	m, _ := newManager(t, a)
	a.onPush = func(string) { panic("hook bug") }
	res, err := m.Set(context.Background(), "S", vals(t, map[string]any{"VirtualServer": "S"}), properties.SetOptions{})
	require.NoError(t, err)
	require.ErrorIs(t, res.SyncErr, properties.ErrOutOfSync)
	assert.Contains(t, res.SyncErr.Error(), "hook bug")

	ctx, cancel := context.WithCancel(context.Background())
	a.onPush = func(string) { cancel() }
	a.setFail(context.Canceled)
	res, err = m.Set(ctx, "S", vals(t, map[string]any{"Port": uint32(9)}), properties.SetOptions{})
	require.NoError(t, err)
	require.ErrorIs(t, res.SyncErr, properties.ErrOutOfSync)
	st, err := m.Status(context.Background(), "S")
	require.NoError(t, err)
	assert.True(t, st.OutOfSync)
	assert.Contains(t, st.Error, "canceled")
}

// R55: changes made in the application's own console show as drift, per
// property; reconciling in either direction removes it.
func TestDriftAndReconcile(t *testing.T) {
	ctx := context.Background()
	a := newApp()
	m, store := newManager(t, a)
	_, err := m.Set(ctx, "SMTP-1", vals(t, map[string]any{"VirtualServer": "SMTP-1", "Mode": "active"}), properties.SetOptions{})
	require.NoError(t, err)
	d, err := m.Drift(ctx, "SMTP-1")
	require.NoError(t, err)
	assert.Empty(t, d, "just pushed: no drift")

	// An administrator changes the application directly.
	a.edit("SMTP-1", "Port", uint32(2525))
	a.edit("SMTP-1", "Mode", nil)
	a.edit("SMTP-1", "Legacy", "x")
	d, err = m.Drift(ctx, "SMTP-1")
	require.NoError(t, err)
	require.Len(t, d, 3)
	assert.Equal(t, properties.Difference{Name: "Port", Stored: uint32(25), App: uint32(2525)}, d[0])
	assert.Equal(t, properties.Difference{Name: "Mode", Stored: "active", App: nil}, d[1])
	assert.Equal(t, properties.Difference{Name: "Legacy", Stored: nil, App: "x"}, d[2])
	assert.Equal(t, "Port: stored 25, application 2525", d[0].String())

	// From the application: its values are refused while it holds a name
	// the schema does not declare, and nothing changes.
	before := snapshot(t, store, "SMTP-1")
	_, err = m.Reconcile(ctx, "SMTP-1", properties.FromApplication, properties.SetOptions{})
	require.ErrorIs(t, err, properties.ErrInvalid)
	assert.Contains(t, err.Error(), `"Legacy": unknown property`)
	requireSameSnapshot(t, before, snapshot(t, store, "SMTP-1"))

	// Without it, the application's values are adopted.
	a.edit("SMTP-1", "Legacy", nil)
	var applied properties.Values
	res, err := m.Reconcile(ctx, "SMTP-1", properties.FromApplication, properties.SetOptions{
		Apply: func(_ context.Context, v properties.Values) error { applied = v; return nil }})
	require.NoError(t, err)
	assert.Equal(t, properties.Applied, res.Outcome)
	port, _ := applied.GetUint32("Port")
	assert.Equal(t, uint32(2525), port, "the resource is told of the adopted values (R58)")
	d, err = m.Drift(ctx, "SMTP-1")
	require.NoError(t, err)
	assert.Empty(t, d, "adopted: no drift")
	stored, _ := m.Stored(ctx, "SMTP-1")
	assert.False(t, stored.Has("Mode"), "a value the application dropped is dropped from the store")

	// To the application: the store wins.
	a.edit("SMTP-1", "Port", uint32(1))
	d, _ = m.Drift(ctx, "SMTP-1")
	require.Len(t, d, 1)
	_, err = m.Reconcile(ctx, "SMTP-1", properties.ToApplication, properties.SetOptions{})
	require.NoError(t, err)
	d, err = m.Drift(ctx, "SMTP-1")
	require.NoError(t, err)
	assert.Empty(t, d)
	p, _ := a.get("SMTP-1").GetUint32("Port")
	assert.Equal(t, uint32(2525), p)
}

// R55: a hook that cannot read back, or no hook, makes drift and reconcile
// unsupported; a bad direction is invalid.
func TestDriftUnsupported(t *testing.T) {
	ctx := context.Background()
	m, _ := newManager(t, pushOnly{})
	_, err := m.Drift(ctx, "S")
	require.ErrorIs(t, err, properties.ErrUnsupported)
	_, err = m.Reconcile(ctx, "S", properties.FromApplication, properties.SetOptions{})
	require.ErrorIs(t, err, properties.ErrUnsupported)
	_, err = m.Reconcile(ctx, "S", properties.Direction(9), properties.SetOptions{})
	require.ErrorIs(t, err, properties.ErrInvalid)

	none, _ := newManager(t, nil)
	_, err = none.Reconcile(ctx, "S", properties.ToApplication, properties.SetOptions{})
	require.ErrorIs(t, err, properties.ErrUnsupported)
	_, err = none.Drift(ctx, "S")
	require.ErrorIs(t, err, properties.ErrUnsupported)
}

// R58: the set's answer says whether the running resource took the values,
// or they are stored for the next Online (an error wrapping ErrStored from
// the apply callback, as the wrapper's SetProperties gives).
func TestSetOutcome(t *testing.T) {
	ctx := context.Background()
	errRefused := errors.New("resource busy")
	tests := []struct {
		name    string
		apply   properties.ApplyFunc
		outcome properties.Outcome
		stored  bool // Err wraps ErrStored
	}{
		{"no resource running", nil, properties.Applied, false},
		{"the resource took them", func(context.Context, properties.Values) error { return nil }, properties.Applied, false},
		{"not reloadable while Online", func(context.Context, properties.Values) error {
			return fmt.Errorf("SMTP-1: set properties: Port is not reloadable: %w", properties.ErrStored)
		}, properties.StoredForNextOnline, true},
		{"the resource refused", func(context.Context, properties.Values) error { return errRefused }, properties.StoredForNextOnline, true},
		{"the callback panicked", func(context.Context, properties.Values) error { panic("bug") }, properties.StoredForNextOnline, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newManager(t, nil)
			res, err := m.Set(ctx, "SMTP-1", vals(t, map[string]any{"VirtualServer": "SMTP-1", "Port": uint32(587)}),
				properties.SetOptions{Apply: tt.apply})
			require.NoError(t, err)
			assert.Equal(t, tt.outcome, res.Outcome)
			assert.Equal(t, tt.stored, errors.Is(res.Err(), properties.ErrStored), "Err() = %v", res.Err())
			stored, _ := m.Stored(ctx, "SMTP-1")
			p, _ := stored.GetUint32("Port")
			assert.Equal(t, uint32(587), p, "stored in every case")
		})
	}
	assert.Equal(t, "applied", properties.Applied.String())
	assert.Equal(t, "stored", properties.StoredForNextOnline.String())
	assert.Equal(t, "Outcome(0)", properties.Outcome(0).String())
}

// R58: apply receives the effective values, defaults included.
func TestApplyGetsEffectiveValues(t *testing.T) {
	m, _ := newManager(t, nil)
	var got properties.Values
	_, err := m.Set(context.Background(), "S", vals(t, map[string]any{"VirtualServer": "S"}), properties.SetOptions{
		Apply: func(_ context.Context, v properties.Values) error { got = v; return nil }})
	require.NoError(t, err)
	d, err := got.GetDuration("Timeout")
	require.NoError(t, err)
	assert.Equal(t, 30*time.Second, d)
}

// R53, R54: sets of one resource run one at a time, so their pushes reach
// the application in the order the store committed them. Deterministic
// (testing/synctest): while the first set's push is blocked, a second set
// must not commit; it would, and the application would end behind the
// store, without the per-resource lock.
func TestConcurrentSetsPushInCommitOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		a := newApp()
		m, store := newManager(t, a)
		_, err := m.Set(ctx, "S", vals(t, map[string]any{"VirtualServer": "S"}), properties.SetOptions{})
		require.NoError(t, err)
		before := store.committed()

		release := make(chan struct{})
		var first atomic.Bool
		a.onPush = func(string) {
			if first.CompareAndSwap(false, true) {
				<-release // the first set's push hangs until released
			}
		}
		set := func(port uint32) <-chan error {
			done := make(chan error, 1)
			go func() {
				_, err := m.Set(ctx, "S", vals(t, map[string]any{"Port": port}), properties.SetOptions{})
				done <- err
			}()
			return done
		}
		done1 := set(1001)
		synctest.Wait() // the first set has committed and hangs in its push
		require.True(t, first.Load(), "the first set reached its push")
		require.Equal(t, before+1, store.committed())

		done2 := set(1002)
		synctest.Wait() // the second set waits for the resource
		assert.Equal(t, before+1, store.committed(), "a second set committed while the first one's push ran")
		stored, err := m.Stored(ctx, "S")
		require.NoError(t, err)
		p, _ := stored.GetUint32("Port")
		assert.Equal(t, uint32(1001), p)

		close(release)
		require.NoError(t, <-done1)
		require.NoError(t, <-done2)
		a.mu.Lock()
		pushes := slices.Clone(a.pushes)
		a.mu.Unlock()
		require.Len(t, pushes, 3)
		for i, want := range []uint32{25, 1001, 1002} {
			got, _ := pushes[i].GetUint32("Port")
			assert.Equal(t, want, got, "push %d", i)
		}
		eff, err := m.Effective(ctx, "S")
		require.NoError(t, err)
		assert.True(t, eff.Equal(a.get("S")), "the application holds the last committed values")
		d, err := m.Drift(ctx, "S")
		require.NoError(t, err)
		assert.Empty(t, d)
	})
}

// R53, R54: many concurrent sets of one resource leave the application
// with the stored values (a stress companion to the test above, for the
// race detector).
func TestConcurrentSetsStress(t *testing.T) {
	ctx := context.Background()
	a := newApp()
	m, _ := newManager(t, a)
	_, err := m.Set(ctx, "S", vals(t, map[string]any{"VirtualServer": "S"}), properties.SetOptions{})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			_, err := m.Set(ctx, "S", vals(t, map[string]any{"Port": uint32(1000 + i)}), properties.SetOptions{})
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	stored, err := m.Effective(ctx, "S")
	require.NoError(t, err)
	assert.True(t, stored.Equal(a.get("S")), "the application holds the last committed values")
	d, err := m.Drift(ctx, "S")
	require.NoError(t, err)
	assert.Empty(t, d)
}

// A set waiting for another set of the same resource gives up when its
// context ends.
func TestSetHonoursContextWhileWaiting(t *testing.T) {
	a := newApp()
	m, _ := newManager(t, a)
	entered, release := make(chan struct{}), make(chan struct{})
	a.onPush = func(string) {
		close(entered)
		<-release
	}
	done := make(chan error, 1)
	go func() {
		_, err := m.Set(context.Background(), "S", vals(t, map[string]any{"VirtualServer": "S"}), properties.SetOptions{})
		done <- err
	}()
	<-entered
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := m.Set(ctx, "S", vals(t, map[string]any{"Port": uint32(1)}), properties.SetOptions{})
	require.ErrorIs(t, err, context.Canceled)
	close(release)
	require.NoError(t, <-done)
	a.onPush = nil
}

// Delete removes the values and the mark of the Manager's namespace only.
func TestDelete(t *testing.T) {
	ctx := context.Background()
	a := newApp()
	a.setFail(errors.New("down"))
	m, store := newManager(t, a)
	_, err := m.Set(ctx, "S", vals(t, map[string]any{"VirtualServer": "S"}), properties.SetOptions{})
	require.NoError(t, err)
	require.NoError(t, store.Update(ctx, func(tx properties.Tx) error {
		return tx.Put("S", properties.Common, vals(t, map[string]any{"X": "y"}))
	}))
	require.NoError(t, m.Delete(ctx, "S"))
	snap := snapshot(t, store, "S")
	assert.Equal(t, 0, snap["S/Parameters"].Len())
	assert.Equal(t, 0, snap["S/Parameters.Sync"].Len())
	assert.Equal(t, 1, snap["S/Common"].Len())
}

// R59: resource names are bounded and checked before use.
func TestResourceNameBounds(t *testing.T) {
	ctx := context.Background()
	m, store := newManager(t, newApp())
	for _, name := range []string{"", " S", "S\n", strings.Repeat("r", properties.MaxResourceNameLength+1), "\xff"} {
		_, err := m.Set(ctx, name, vals(t, map[string]any{"VirtualServer": "S"}), properties.SetOptions{})
		require.ErrorIs(t, err, properties.ErrInvalid, "%q", name)
		assert.Contains(t, err.Error(), "resource name")
		_, err = m.Effective(ctx, name)
		require.ErrorIs(t, err, properties.ErrInvalid)
		_, err = m.Drift(ctx, name)
		require.ErrorIs(t, err, properties.ErrInvalid)
		_, err = m.HandleSet(ctx, name, []byte(`{}`), nil)
		require.ErrorIs(t, err, properties.ErrInvalid)
	}
	require.NoError(t, properties.CheckResourceName(strings.Repeat("r", properties.MaxResourceNameLength)))
	assert.Equal(t, 0, store.committed())
}
