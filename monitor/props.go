package monitor

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/wrapper"
)

// The control codes the monitor handles itself (R51); codes from
// resource.FirstResourceControlCode on go to the resource's Controller.
// Each takes and returns JSON in the plain form of properties.Schema's
// DecodeJSON: an object of property names to values.
const (
	// CodeGetCommonProperties returns the common properties (the Policy):
	// the values set for the resource, over the defaults.
	CodeGetCommonProperties resource.ControlCode = 0x0101
	// CodeValidateCommonProperties checks common properties without
	// storing them; it returns the values a set would leave.
	CodeValidateCommonProperties resource.ControlCode = 0x0102
	// CodeSetCommonProperties stores common properties and applies them to
	// the running resource at once (R30, R51).
	CodeSetCommonProperties resource.ControlCode = 0x0103

	// CodeGetPrivateProperties returns the private properties an
	// administrator may set.
	CodeGetPrivateProperties resource.ControlCode = 0x0201
	// CodeGetReadOnlyPrivateProperties returns the read-only private
	// properties.
	CodeGetReadOnlyPrivateProperties resource.ControlCode = 0x0202
	// CodeValidatePrivateProperties checks private properties without
	// storing them (R52).
	CodeValidatePrivateProperties resource.ControlCode = 0x0203
	// CodeSetPrivateProperties stores private properties in one
	// transaction, pushes them through the type's sync hook and tells the
	// resource (R53, R54, R58). Its answer says "applied" or "stored" (they
	// take effect at the next Online); the error then wraps
	// properties.ErrStored, which is an answer, not a failure to store.
	CodeSetPrivateProperties resource.ControlCode = 0x0204
	// CodeGetDrift returns the differences between the stored private
	// properties and the application's own configuration (R55), as a JSON
	// array of {"name", "stored", "application"}.
	CodeGetDrift resource.ControlCode = 0x0205
)

// commonSchema declares the common properties (R51): the Policy, stored
// under the resource's Common namespace. A property that is not set means
// the contract's default; durations accept resource.Never ("-1ns") and
// resource.NoDelay ("-2ns") where the Policy field does.
var commonSchema = properties.MustSchema(
	properties.Property{Name: "PendingTimeout", Kind: properties.Duration, Description: "R11: how long Online or Offline may run"},
	properties.Property{Name: "MaxPendingTime", Kind: properties.Duration, Description: "R13: the cap on progress reports"},
	properties.Property{Name: "TerminateTimeout", Kind: properties.Duration, Description: "R16, R17: how long Terminate waits"},
	properties.Property{Name: "CheckTimeout", Kind: properties.Duration, Description: "R20: how long a check may run"},
	properties.Property{Name: "IsAliveInterval", Kind: properties.Duration, Description: "R20: time between IsAlive checks"},
	properties.Property{Name: "LooksAliveInterval", Kind: properties.Duration, Description: "R20: time between LooksAlive checks"},
	properties.Property{Name: "FailureThreshold", Kind: properties.Int64, Min: int64(0), Description: "R24: failed checks in a row that latch"},
	properties.Property{Name: "StartupGrace", Kind: properties.Duration, Description: "R24: time after Online before checks count"},
	properties.Property{Name: "RestartAction", Kind: properties.String,
		Allowed:     []any{RestartAndFailover.String(), RestartNoFailover.String(), NoRestart.String()},
		Description: "R32: what a failure leads to"},
	properties.Property{Name: "RestartThreshold", Kind: properties.Int64, Min: int64(0), Description: "R31: restarts within RestartPeriod"},
	properties.Property{Name: "RestartPeriod", Kind: properties.Duration, Description: "R31, R33: the sliding window"},
	properties.Property{Name: "RestartDelay", Kind: properties.Duration, Description: "R31: wait before a restart"},
	properties.Property{Name: "RetryPeriodOnFailure", Kind: properties.Duration, Description: "R34: retry of a resource left Failed"},
)

// CommonSchema returns the schema of the common properties (R51).
func CommonSchema() *properties.Schema { return commonSchema }

// policyValues returns the fields of p that are set, as common property
// values.
func policyValues(p Policy) properties.Values {
	var v properties.Values
	durs := []struct {
		name string
		d    time.Duration
	}{
		{"PendingTimeout", p.PendingTimeout}, {"MaxPendingTime", p.MaxPendingTime},
		{"TerminateTimeout", p.TerminateTimeout}, {"CheckTimeout", p.CheckTimeout},
		{"IsAliveInterval", p.IsAliveInterval}, {"LooksAliveInterval", p.LooksAliveInterval},
		{"StartupGrace", p.StartupGrace}, {"RestartPeriod", p.RestartPeriod},
		{"RestartDelay", p.RestartDelay}, {"RetryPeriodOnFailure", p.RetryPeriodOnFailure},
	}
	for _, d := range durs {
		if d.d != 0 {
			_ = v.Set(d.name, d.d)
		}
	}
	if p.FailureThreshold != 0 {
		_ = v.Set("FailureThreshold", int64(p.FailureThreshold))
	}
	if p.RestartThreshold != 0 {
		_ = v.Set("RestartThreshold", int64(p.RestartThreshold))
	}
	if p.RestartAction != RestartAndFailover {
		_ = v.Set("RestartAction", p.RestartAction.String())
	}
	return v
}

// valuesPolicy is policyValues' inverse; names not set give zero fields.
func valuesPolicy(v properties.Values) Policy {
	dur := func(name string) time.Duration { d, _ := v.GetDuration(name); return d }
	num := func(name string) int { n, _ := v.GetInt64(name); return int(n) }
	p := Policy{
		Policy: wrapper.Policy{
			PendingTimeout: dur("PendingTimeout"), MaxPendingTime: dur("MaxPendingTime"),
			TerminateTimeout: dur("TerminateTimeout"), CheckTimeout: dur("CheckTimeout"),
			IsAliveInterval: dur("IsAliveInterval"), LooksAliveInterval: dur("LooksAliveInterval"),
			FailureThreshold: num("FailureThreshold"), StartupGrace: dur("StartupGrace"),
		},
		RestartThreshold: num("RestartThreshold"), RestartPeriod: dur("RestartPeriod"),
		RestartDelay: dur("RestartDelay"), RetryPeriodOnFailure: dur("RetryPeriodOnFailure"),
	}
	if a, err := v.GetString("RestartAction"); err == nil {
		for _, x := range []RestartAction{RestartAndFailover, RestartNoFailover, NoRestart} {
			if x.String() == a {
				p.RestartAction = x
			}
		}
	}
	return p
}

// privateManager returns the Manager of the private properties of type t,
// made on first use.
func (m *Monitor) privateManager(t *resource.Type) (*properties.Manager, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if mgr := m.private[t.Name()]; mgr != nil {
		return mgr, nil
	}
	mgr, err := properties.NewManager(properties.Options{
		Store: m.store, Schema: t.Schema(), Namespace: properties.Parameters, Hook: t.SyncHook(), Logger: m.logger,
		Peers: func(_ context.Context, name string) ([]string, error) { return m.peers(t.Name(), name), nil },
	})
	if err != nil {
		return nil, err
	}
	m.private[t.Name()] = mgr
	return mgr, nil
}

// peers lists the other hosted resources of type typ (R50, Unique).
func (m *Monitor) peers(typ, name string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for e := range m.entries.all() {
		n := e.name
		if e.typ().Name() == typ && n != name {
			out = append(out, n)
		}
	}
	return out
}

// loadOrStore is Add's part of the property path: the values given are
// validated and stored; when none are given the stored ones are loaded
// (R53). It returns the effective private values and the policy.
func (m *Monitor) loadOrStore(ctx context.Context, t *resource.Type, spec Spec) (properties.Values, Policy, error) {
	mgr, err := m.privateManager(t)
	if err != nil {
		return properties.Values{}, Policy{}, err
	}
	var vals properties.Values
	if spec.Properties.Len() > 0 {
		// The creator may set read-only properties; the schema checks all.
		res, err := mgr.Set(ctx, spec.Name, spec.Properties, properties.SetOptions{AllowReadOnly: true})
		if err != nil {
			return properties.Values{}, Policy{}, fmt.Errorf("private properties: %w", err)
		}
		if res.SyncErr != nil {
			m.logger.Warn("sync hook failed on add", "resource", spec.Name, "err", res.SyncErr)
		}
		vals = res.Values
	} else {
		if vals, err = mgr.Effective(ctx, spec.Name); err != nil {
			return properties.Values{}, Policy{}, fmt.Errorf("private properties: %w", err)
		}
		if err := t.Schema().ValidateValues(vals); err != nil { // R52: required ones, and stored data still valid
			return properties.Values{}, Policy{}, fmt.Errorf("stored private properties: %w", err)
		}
	}

	pol := spec.Policy
	switch {
	case pol != (Policy{}):
		if _, err := m.common.Set(ctx, spec.Name, policyValues(pol), properties.SetOptions{}); err != nil {
			return properties.Values{}, Policy{}, fmt.Errorf("common properties: %w", err)
		}
	default:
		stored, err := m.common.Stored(ctx, spec.Name)
		if err != nil {
			return properties.Values{}, Policy{}, fmt.Errorf("common properties: %w", err)
		}
		pol = m.defPol
		if stored.Len() > 0 {
			pol = valuesPolicy(stored)
		}
	}
	return vals, pol, nil
}

// controlProperties handles the monitor's own control codes (R51); it
// returns handled false for codes it does not know.
func (m *Monitor) controlProperties(ctx context.Context, e *entry, code resource.ControlCode, in []byte) (out []byte, handled bool, err error) {
	switch code {
	case CodeGetCommonProperties:
		p, err := m.Policy(e.name)
		if err != nil {
			return nil, true, err
		}
		out, err = commonSchema.EncodeJSON(policyValues(p.withDefaultsShown()))
		return out, true, err
	case CodeValidateCommonProperties, CodeSetCommonProperties:
		update, err := commonSchema.DecodeJSON(in)
		if err != nil {
			return nil, true, err
		}
		stored, err := m.common.Stored(ctx, e.name)
		if err != nil {
			return nil, true, err
		}
		p := valuesPolicy(stored.Merge(update))
		if _, err := p.resolve(); err != nil {
			return nil, true, fmt.Errorf("common properties: %w", err)
		}
		if code == CodeValidateCommonProperties {
			out, err = commonSchema.EncodeJSON(stored.Merge(update))
			return out, true, err
		}
		out, err = m.common.HandleSet(ctx, e.name, in, func(ctx context.Context, vals properties.Values) error {
			return m.applyPolicy(e, valuesPolicy(vals))
		})
		return out, true, err
	}
	mgr, err := m.privateManager(e.typ())
	if err != nil {
		return nil, true, err
	}
	switch code {
	case CodeGetPrivateProperties:
		out, err = mgr.HandleGet(ctx, e.name)
	case CodeGetReadOnlyPrivateProperties:
		out, err = mgr.HandleGetReadOnly(ctx, e.name)
	case CodeValidatePrivateProperties:
		out, err = mgr.HandleValidate(ctx, e.name, in)
	case CodeSetPrivateProperties:
		out, err = mgr.HandleSet(ctx, e.name, in, e.w.SetProperties)
	case CodeGetDrift:
		var diffs []properties.Difference
		if diffs, err = mgr.Drift(ctx, e.name); err == nil {
			out, err = marshalDrift(diffs)
		}
	default:
		return nil, false, nil
	}
	return out, true, err
}

// withDefaultsShown returns p with every default filled in, for display.
func (p Policy) withDefaultsShown() Policy {
	r, err := p.resolve()
	if err != nil {
		return p
	}
	return r.shown()
}

// applyPolicy gives a running resource new common properties (R30).
func (m *Monitor) applyPolicy(e *entry, p Policy) error {
	res, err := p.resolve()
	if err != nil {
		return err
	}
	if err := e.w.SetPolicy(p.Policy); err != nil {
		return err
	}
	m.mu.Lock()
	m.setPolicy(e, res)
	m.mu.Unlock()
	return nil
}

// Drift returns the differences between a resource's stored private
// properties and the application's own configuration (R55). It needs a
// type whose sync hook can read the application (properties.SyncReader).
func (m *Monitor) Drift(ctx context.Context, name string) ([]properties.Difference, error) {
	e, err := m.lookup(name)
	if err != nil {
		return nil, err
	}
	mgr, err := m.privateManager(e.typ())
	if err != nil {
		return nil, err
	}
	return mgr.Drift(ctx, name)
}

// Reconcile makes a resource's stored private properties and the
// application's configuration agree again (R54, R55), in the direction
// given; values taken from the application are validated first and told to
// the resource as a set would.
func (m *Monitor) Reconcile(ctx context.Context, name string, dir properties.Direction) (properties.SetResult, error) {
	e, err := m.lookup(name)
	if err != nil {
		return properties.SetResult{}, err
	}
	mgr, err := m.privateManager(e.typ())
	if err != nil {
		return properties.SetResult{}, err
	}
	return mgr.Reconcile(ctx, name, dir, properties.SetOptions{Apply: e.w.SetProperties})
}

// SetProperties sets private properties of a resource (R53, R58): update
// is validated, stored in one transaction, pushed through the type's sync
// hook and told to the resource. The result says whether the resource
// took the values or they wait for its next Online.
func (m *Monitor) SetProperties(ctx context.Context, name string, update properties.Values) (properties.SetResult, error) {
	e, err := m.lookup(name)
	if err != nil {
		return properties.SetResult{}, err
	}
	mgr, err := m.privateManager(e.typ())
	if err != nil {
		return properties.SetResult{}, err
	}
	return mgr.Set(ctx, name, update, properties.SetOptions{Apply: e.w.SetProperties})
}

func marshalDrift(diffs []properties.Difference) ([]byte, error) {
	type row struct {
		Name        string  `json:"name"`
		Stored      *string `json:"stored"`      // null: none stored
		Application *string `json:"application"` // null: the application has none
	}
	text := func(v any) *string {
		if v == nil {
			return nil
		}
		s := fmt.Sprint(v)
		return &s
	}
	rows := make([]row, len(diffs))
	for i, d := range diffs {
		rows[i] = row{Name: d.Name, Stored: text(d.Stored), Application: text(d.App)}
	}
	return json.Marshal(rows)
}
