package monitor_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/resdll/resdll/monitor"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	rt "github.com/resdll/resdll/resource/resourcetest"
)

// appConfig is the application's own configuration, the far side of the
// sync hook (EXSETDATA's role): a SyncReader.
type appConfig struct {
	mu   sync.Mutex
	vals map[string]properties.Values
	fail error
}

func (a *appConfig) Push(_ context.Context, name string, v properties.Values) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return a.fail
	}
	a.vals[name] = v.Clone()
	return nil
}

func (a *appConfig) Pull(_ context.Context, name string) (properties.Values, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.vals[name].Clone(), nil
}

func (a *appConfig) edit(name, prop string, v any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	vals := a.vals[name].Clone()
	_ = vals.Set(prop, v)
	a.vals[name] = vals
}

var smtpSchema = properties.MustSchema(
	properties.Property{Name: "Port", Kind: properties.Uint32, Default: uint32(25), Min: uint32(1), Max: uint32(65535)},
	properties.Property{Name: "LogLevel", Kind: properties.Uint32, Default: uint32(1), Reloadable: true},
	properties.Property{Name: "Server", Kind: properties.String, Required: true},
	properties.Property{Name: "Build", Kind: properties.String, ReadOnly: true, Default: "6.5"},
)

type pstore struct {
	*menv
	app   *appConfig
	store properties.Store
}

func newPropsEnv(t *testing.T, store properties.Store) *pstore {
	t.Helper()
	if store == nil {
		store = properties.NewMemStore()
	}
	e := newMenv(t, monitor.Options{Store: store})
	app := &appConfig{vals: map[string]properties.Values{}}
	typ, err := resource.NewType("SMTP", smtpSchema, func(_ context.Context, name string, _ properties.Values) (resource.Resource, error) {
		f := rt.NewFake(e.clk, rt.Caps{})
		e.mu.Lock()
		e.fakes[name] = f
		e.mu.Unlock()
		return f.Resource(), nil
	})
	require.NoError(t, err)
	typ.SetSyncHook(app)
	require.NoError(t, e.m.RegisterType(typ))
	return &pstore{menv: e, app: app, store: store}
}

func vals(t *testing.T, m map[string]any) properties.Values {
	t.Helper()
	v, err := properties.NewValues(m)
	require.NoError(t, err)
	return v
}

func (p *pstore) get(name string, code resource.ControlCode) map[string]any {
	p.t.Helper()
	out, err := p.m.Control(p.ctx, name, code, nil)
	require.NoError(p.t, err)
	var m map[string]any
	require.NoError(p.t, json.Unmarshal(out, &m))
	return m
}

// R53, R40: Add validates and stores the values it is given; bad values
// are refused with every problem named, and nothing remains.
func TestAddStoresProperties(t *testing.T) {
	p := newPropsEnv(t, nil)
	err := p.m.Add(p.ctx, monitor.Spec{Name: "bad", Type: "SMTP", Properties: vals(t, map[string]any{"Port": uint32(0), "Nope": "x"})})
	require.ErrorIs(t, err, properties.ErrInvalid)
	for _, want := range []string{`"Port"`, `"Nope"`, `"Server"`} {
		assert.ErrorContains(t, err, want, "R52: every problem at once")
	}
	assert.NotContains(t, p.m.Resources(), "bad")

	require.NoError(t, p.m.Add(p.ctx, monitor.Spec{Name: "SMTP-1", Type: "SMTP", Properties: vals(t, map[string]any{"Server": "EVS1"})}))
	got := p.get("SMTP-1", monitor.CodeGetPrivateProperties)
	assert.Equal(t, "EVS1", got["Server"])
	assert.EqualValues(t, 25, got["Port"], "defaults filled in")
	ro := p.get("SMTP-1", monitor.CodeGetReadOnlyPrivateProperties)
	assert.Equal(t, "6.5", ro["Build"])
	p.app.mu.Lock()
	pushed := p.app.vals["SMTP-1"]
	p.app.mu.Unlock()
	server, _ := pushed.GetString("Server")
	assert.Equal(t, "EVS1", server, "R53: pushed to the application")
}

// R53, R57: a monitor restarted on the same store loads the values an
// earlier one stored, private and common.
func TestAddLoadsStoredProperties(t *testing.T) {
	store := properties.NewMemStore()
	defer store.Close()
	first := newPropsEnv(t, store)
	require.NoError(t, first.m.Add(first.ctx, monitor.Spec{Name: "SMTP-1", Type: "SMTP",
		Properties: vals(t, map[string]any{"Server": "EVS1", "Port": uint32(587)}),
		Policy:     monitor.Policy{RestartThreshold: 5}}))
	require.NoError(t, first.m.Shutdown(first.ctx))

	second := newPropsEnv(t, store)
	require.NoError(t, second.m.Add(second.ctx, monitor.Spec{Name: "SMTP-1", Type: "SMTP"}))
	got := second.get("SMTP-1", monitor.CodeGetPrivateProperties)
	assert.EqualValues(t, 587, got["Port"])
	pol, err := second.m.Policy("SMTP-1")
	require.NoError(t, err)
	assert.Equal(t, 5, pol.RestartThreshold)
}

// R51, R52, R53, R58: the private-property codes: validate stores nothing;
// set while Online applies a reloadable change at once and stores the
// others for the next Online; bad input changes nothing.
func TestPrivatePropertyCodes(t *testing.T) {
	p := newPropsEnv(t, nil)
	require.NoError(t, p.m.Add(p.ctx, monitor.Spec{Name: "SMTP-1", Type: "SMTP", Properties: vals(t, map[string]any{"Server": "EVS1"})}))
	p.online("SMTP-1")

	out, err := p.m.Control(p.ctx, "SMTP-1", monitor.CodeValidatePrivateProperties, []byte(`{"Port": 2525}`))
	require.NoError(t, err)
	assert.Contains(t, string(out), "2525")
	assert.EqualValues(t, 25, p.get("SMTP-1", monitor.CodeGetPrivateProperties)["Port"], "validate stores nothing")

	out, err = p.m.Control(p.ctx, "SMTP-1", monitor.CodeSetPrivateProperties, []byte(`{"LogLevel": 3}`))
	require.NoError(t, err, "reloadable: applied at once")
	assert.Contains(t, string(out), `"applied"`)
	f := p.fakes["SMTP-1"]
	assert.Equal(t, 1, f.Count(resource.OpSetProperties), "R58: the resource was told")

	out, err = p.m.Control(p.ctx, "SMTP-1", monitor.CodeSetPrivateProperties, []byte(`{"Port": 2525}`))
	require.ErrorIs(t, err, properties.ErrStored, "R58: not reloadable")
	assert.Contains(t, string(out), `"stored"`)
	assert.EqualValues(t, 2525, p.get("SMTP-1", monitor.CodeGetPrivateProperties)["Port"])

	_, err = p.m.Control(p.ctx, "SMTP-1", monitor.CodeSetPrivateProperties, []byte(`{"Port": 0, "Build": "7", "Nope": 1}`))
	require.ErrorIs(t, err, properties.ErrInvalid)
	for _, want := range []string{`"Port"`, `"Build"`, `"Nope"`} {
		assert.ErrorContains(t, err, want)
	}
	assert.EqualValues(t, 2525, p.get("SMTP-1", monitor.CodeGetPrivateProperties)["Port"], "R53: unchanged")

	_, err = p.m.Control(p.ctx, "SMTP-1", 0x0999, nil)
	assert.ErrorIs(t, err, resource.ErrUnsupported)
}

// R54, R55: a failing sync hook leaves the stored values and marks the
// resource; a change made in the application's own console shows as
// drift and is reconciled either way.
func TestSyncAndDrift(t *testing.T) {
	p := newPropsEnv(t, nil)
	require.NoError(t, p.m.Add(p.ctx, monitor.Spec{Name: "SMTP-1", Type: "SMTP", Properties: vals(t, map[string]any{"Server": "EVS1"})}))

	p.app.mu.Lock()
	p.app.fail = errors.New("share offline")
	p.app.mu.Unlock()
	res, err := p.m.SetProperties(p.ctx, "SMTP-1", vals(t, map[string]any{"Port": uint32(26)}))
	require.NoError(t, err)
	assert.ErrorIs(t, res.Err(), properties.ErrOutOfSync)
	assert.EqualValues(t, 26, p.get("SMTP-1", monitor.CodeGetPrivateProperties)["Port"], "R54: the stored values stand")
	p.app.mu.Lock()
	p.app.fail = nil
	p.app.mu.Unlock()
	res, err = p.m.Reconcile(p.ctx, "SMTP-1", properties.ToApplication)
	require.NoError(t, err)
	assert.NoError(t, res.Err())

	p.app.edit("SMTP-1", "Port", uint32(2600)) // an administrator's console
	diffs, err := p.m.Drift(p.ctx, "SMTP-1")
	require.NoError(t, err)
	require.Len(t, diffs, 1)
	assert.Equal(t, "Port", diffs[0].Name)
	out, err := p.m.Control(p.ctx, "SMTP-1", monitor.CodeGetDrift, nil)
	require.NoError(t, err)
	assert.JSONEq(t, `[{"name":"Port","stored":"26","application":"2600"}]`, string(out))

	_, err = p.m.Reconcile(p.ctx, "SMTP-1", properties.FromApplication)
	require.NoError(t, err)
	assert.EqualValues(t, 2600, p.get("SMTP-1", monitor.CodeGetPrivateProperties)["Port"])
	diffs, err = p.m.Drift(p.ctx, "SMTP-1")
	require.NoError(t, err)
	assert.Empty(t, diffs)
}

// R30, R51: the common properties are the policy: get shows the defaults,
// set stores and applies at once, and a bad value changes nothing.
func TestCommonPropertyCodes(t *testing.T) {
	p := newPropsEnv(t, nil)
	require.NoError(t, p.m.Add(p.ctx, monitor.Spec{Name: "SMTP-1", Type: "SMTP", Properties: vals(t, map[string]any{"Server": "EVS1"})}))
	got := p.get("SMTP-1", monitor.CodeGetCommonProperties)
	assert.Equal(t, "15m0s", got["RestartPeriod"])
	assert.EqualValues(t, 2, got["RestartThreshold"])

	_, err := p.m.Control(p.ctx, "SMTP-1", monitor.CodeSetCommonProperties, []byte(`{"IsAliveInterval": "7s", "RestartAction": "NoRestart"}`))
	require.NoError(t, err)
	pol, err := p.m.Policy("SMTP-1")
	require.NoError(t, err)
	assert.Equal(t, 7*time.Second, pol.IsAliveInterval)
	assert.Equal(t, monitor.NoRestart, pol.RestartAction)

	_, err = p.m.Control(p.ctx, "SMTP-1", monitor.CodeSetCommonProperties, []byte(`{"RestartDelay": "-5s"}`))
	require.ErrorIs(t, err, resource.ErrInvalidOption)
	assert.ErrorContains(t, err, "RestartDelay")
	_, err = p.m.Control(p.ctx, "SMTP-1", monitor.CodeSetCommonProperties, []byte(`{"RestartAction": "Sometimes"}`))
	require.ErrorIs(t, err, properties.ErrInvalid)
	pol, _ = p.m.Policy("SMTP-1")
	assert.Equal(t, monitor.NoRestart, pol.RestartAction, "unchanged")

	// SetPolicy stores too: a restarted monitor sees it.
	require.NoError(t, p.m.SetPolicy(p.ctx, "SMTP-1", monitor.Policy{RestartThreshold: 4}))
	stored, err := properties.NewManager(properties.Options{Store: p.store, Schema: monitor.CommonSchema(), Namespace: properties.Common})
	require.NoError(t, err)
	v, err := stored.Stored(p.ctx, "SMTP-1")
	require.NoError(t, err)
	n, _ := v.GetInt64("RestartThreshold")
	assert.Equal(t, int64(4), n)
	assert.False(t, v.Has("IsAliveInterval"), "SetPolicy replaces the whole policy")
}

// R53: Remove forgets the stored values.
func TestRemoveForgetsProperties(t *testing.T) {
	p := newPropsEnv(t, nil)
	require.NoError(t, p.m.Add(p.ctx, monitor.Spec{Name: "SMTP-1", Type: "SMTP", Properties: vals(t, map[string]any{"Server": "EVS1"})}))
	require.NoError(t, p.m.Remove(p.ctx, "SMTP-1"))
	err := p.m.Add(p.ctx, monitor.Spec{Name: "SMTP-1", Type: "SMTP"})
	require.ErrorIs(t, err, properties.ErrInvalid, "nothing stored: Server is required again")
	assert.ErrorContains(t, err, `"Server"`)
}
