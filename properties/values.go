package properties

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Values holds property values by name, each of one of the eight kinds (see
// [Kind] for the Go type of each). The zero Values is empty and ready to use.
// Values copies slices on the way in and out, so it never aliases a caller's
// memory; it is not safe for concurrent writes, like a map.
type Values struct {
	m map[string]any
}

// NewValues returns Values holding the given name/value pairs. It refuses
// values of no kind (an int, a float, nil), reporting every one with its
// property's name (joined with [errors.Join]).
func NewValues(m map[string]any) (Values, error) {
	var v Values
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(m)) {
		if err := v.Set(name, m[name]); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Values{}, err
	}
	return v, nil
}

// Set stores val under name. val must be of one of the kinds' Go types; an
// int or a float is refused rather than guessed at (use int64(1), uint32(1),
// …).
func (v *Values) Set(name string, val any) error {
	if _, ok := KindOf(val); !ok {
		return &PropertyError{Name: name, Problem: fmt.Sprintf("value of Go type %T is of no property kind", val),
			Allowed: "string, []string, int64, uint32, uint64, bool, time.Duration or []byte"}
	}
	v.set(name, val)
	return nil
}

func (v *Values) set(name string, val any) {
	if v.m == nil {
		v.m = make(map[string]any)
	}
	v.m[name] = clone(val)
}

// Delete removes name; removing a name that is not set does nothing.
func (v *Values) Delete(name string) { delete(v.m, name) }

// Get returns the value stored under name, and whether there is one.
func (v Values) Get(name string) (any, bool) {
	x, ok := v.m[name]
	return clone(x), ok
}

// Has reports whether name holds a value.
func (v Values) Has(name string) bool {
	_, ok := v.m[name]
	return ok
}

// Len returns the number of values.
func (v Values) Len() int { return len(v.m) }

// Names returns the names that hold values, sorted.
func (v Values) Names() []string { return slices.Sorted(maps.Keys(v.m)) }

// Clone returns a copy of v that shares no memory with it.
func (v Values) Clone() Values {
	var c Values
	for name, x := range v.m {
		c.set(name, x)
	}
	return c
}

// Merge returns a copy of v with every value of over set on top.
func (v Values) Merge(over Values) Values {
	c := v.Clone()
	for name, x := range over.m {
		c.set(name, x)
	}
	return c
}

// Equal reports whether v and w hold the same names with equal values.
func (v Values) Equal(w Values) bool {
	if len(v.m) != len(w.m) {
		return false
	}
	for name, x := range v.m {
		y, ok := w.m[name]
		if !ok || !equal(x, y) {
			return false
		}
	}
	return true
}

// lookup is the typed accessors' common part.
func lookup[T any](v Values, name string, k Kind) (T, error) {
	var zero T
	x, ok := v.m[name]
	if !ok {
		return zero, fmt.Errorf("property %q: %w", name, ErrNotSet)
	}
	if err := k.check(x); err != nil {
		return zero, &PropertyError{Name: name, Problem: "asked for as " + k.String() + ", but the " + err.Error()}
	}
	return clone(x).(T), nil
}

// GetString returns the String value under name. A missing name is an error
// wrapping [ErrNotSet]; a value of another kind, one wrapping [ErrInvalid].
func (v Values) GetString(name string) (string, error) { return lookup[string](v, name, String) }

// GetMultiString returns a copy of the MultiString value under name; errors
// as [Values.GetString].
func (v Values) GetMultiString(name string) ([]string, error) {
	return lookup[[]string](v, name, MultiString)
}

// GetInt64 returns the Int64 value under name; errors as [Values.GetString].
func (v Values) GetInt64(name string) (int64, error) { return lookup[int64](v, name, Int64) }

// GetUint32 returns the Uint32 value under name; errors as [Values.GetString].
func (v Values) GetUint32(name string) (uint32, error) { return lookup[uint32](v, name, Uint32) }

// GetUint64 returns the Uint64 value under name; errors as [Values.GetString].
func (v Values) GetUint64(name string) (uint64, error) { return lookup[uint64](v, name, Uint64) }

// GetBool returns the Bool value under name; errors as [Values.GetString].
func (v Values) GetBool(name string) (bool, error) { return lookup[bool](v, name, Bool) }

// GetDuration returns the Duration value under name; errors as
// [Values.GetString].
func (v Values) GetDuration(name string) (time.Duration, error) {
	return lookup[time.Duration](v, name, Duration)
}

// GetBinary returns a copy of the Binary value under name; errors as
// [Values.GetString].
func (v Values) GetBinary(name string) ([]byte, error) { return lookup[[]byte](v, name, Binary) }
