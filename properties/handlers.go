package properties

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// The control-code handlers (R51). The monitor routes its codes for
// private properties to a Manager of [Parameters], and for common ones to a
// Manager of [Common]; each takes and returns JSON in the plain form (see
// [Schema.DecodeJSON]). Input is bounded and checked before anything is
// stored (R59); bad input returns an error listing every problem, and
// changes nothing.

// HandleGet answers "get private properties" (or common ones): the
// effective values of the properties an administrator may set, as a plain
// JSON object in schema order.
func (m *Manager) HandleGet(ctx context.Context, resource string) ([]byte, error) {
	return m.handleGet(ctx, resource, false)
}

// HandleGetReadOnly answers "get read-only private properties": the
// effective values of the read-only properties, as a plain JSON object.
func (m *Manager) HandleGetReadOnly(ctx context.Context, resource string) ([]byte, error) {
	return m.handleGet(ctx, resource, true)
}

func (m *Manager) handleGet(ctx context.Context, resource string, readOnly bool) ([]byte, error) {
	eff, err := m.Effective(ctx, resource)
	if err != nil {
		return nil, err
	}
	var out Values
	for i := range m.schema.Len() {
		p := &m.schema.props[i]
		if v, ok := eff.m[p.Name]; ok && p.ReadOnly == readOnly {
			out.set(p.Name, v)
		}
	}
	return m.schema.EncodeJSON(out)
}

// HandleValidate answers "validate private properties": in, a plain JSON
// object of the values to set, is checked as [Manager.HandleSet] would
// check it, and nothing is stored. It returns the effective values the set
// would leave, as a plain JSON object, or an error listing every problem
// (R52).
func (m *Manager) HandleValidate(ctx context.Context, resource string, in []byte) ([]byte, error) {
	update, err := m.decodeInput(ctx, resource, in)
	if err != nil {
		return nil, err
	}
	eff, err := m.Validate(ctx, resource, update, SetOptions{})
	if err != nil {
		return nil, err
	}
	return m.schema.EncodeJSON(eff)
}

// SetAnswer is the JSON that [Manager.HandleSet] returns.
type SetAnswer struct {
	// Outcome is "applied", or "stored" when the values take effect at
	// the next Online (R58).
	Outcome string `json:"outcome"`

	// Reason says why the resource did not take the values, when stored.
	Reason string `json:"reason,omitempty"`

	// Synced is false when the sync hook failed (R54).
	Synced bool `json:"synced"`

	// SyncError is the hook's error, when it failed.
	SyncError string `json:"syncError,omitempty"`

	// Values are the effective values after the set, in the plain form.
	Values json.RawMessage `json:"values"`
}

// HandleSet answers "set private properties": in, a plain JSON object of the
// values to set, is decoded, validated, stored in one transaction, pushed
// through the sync hook and applied through apply (which may be nil), as
// [Manager.Set] does (R53, R54, R58).
//
// Bad input returns a nil answer and an error listing every problem at
// once, each naming the property, what was wrong and what is allowed; the
// store is unchanged. Once the values are stored it returns a [SetAnswer]
// as JSON, with [SetResult.Err] as its error: nil, or an error wrapping
// [ErrStored] (the values take effect at the next Online) and/or
// [ErrOutOfSync] (the hook failed). Both of those are answers about stored
// values, not failures to store them.
func (m *Manager) HandleSet(ctx context.Context, resource string, in []byte, apply ApplyFunc) ([]byte, error) {
	update, err := m.decodeInput(ctx, resource, in)
	if err != nil {
		return nil, err
	}
	res, err := m.Set(ctx, resource, update, SetOptions{Apply: apply})
	if err != nil {
		return nil, err
	}
	vals, err := m.schema.EncodeJSON(res.Values)
	if err != nil {
		return nil, fmt.Errorf("properties: set %s of %q: stored, but the answer: %w", m.ns, resource, err)
	}
	ans := SetAnswer{Outcome: res.Outcome.String(), Synced: res.SyncErr == nil, Values: vals}
	if res.ApplyErr != nil {
		ans.Reason = res.ApplyErr.Error()
	}
	if res.SyncErr != nil {
		ans.SyncError = res.SyncErr.Error()
	}
	out, err := json.Marshal(ans)
	if err != nil {
		return nil, fmt.Errorf("properties: set %s of %q: stored, but the answer: %w", m.ns, resource, err)
	}
	return out, res.Err()
}

// decodeInput decodes a handler's JSON input. When some members do not
// decode, it validates the rest too and returns every problem at once.
func (m *Manager) decodeInput(ctx context.Context, resource string, in []byte) (Values, error) {
	if err := CheckResourceName(resource); err != nil {
		return Values{}, err
	}
	update, derr := m.schema.DecodeJSON(in)
	if derr == nil {
		return update, nil
	}
	bad := make(map[string]bool)
	perProperty := false
	for _, e := range flatten(derr) {
		var pe *PropertyError
		if errors.As(e, &pe) {
			perProperty = true
			if p := m.schema.prop(pe.Name); p != nil {
				bad[p.Name] = true
			}
		}
	}
	if !perProperty { // not an object, not JSON, too large: nothing was read
		return Values{}, fmt.Errorf("properties: %s of %q: %w", m.ns, resource, derr)
	}
	_, verr := m.validate(ctx, resource, update, SetOptions{}, bad)
	if verr != nil && !errors.Is(verr, ErrInvalid) {
		return Values{}, errors.Join(fmt.Errorf("properties: %s of %q: %w", m.ns, resource, derr), verr)
	}
	var verrs []error
	if verr != nil {
		verrs = flatten(verr)
	}
	return Values{}, fmt.Errorf("properties: %s of %q: %w", m.ns, resource, limitErrors(append(flatten(derr), verrs...)))
}

// flatten returns the errors joined in err (reaching through the
// fmt.Errorf wrappers this package puts around a joined list), or err
// alone.
func flatten(err error) []error {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			return j.Unwrap()
		}
	}
	return []error{err}
}
