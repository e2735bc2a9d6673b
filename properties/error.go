package properties

import "fmt"

// PropertyError is one problem with one property: what was wrong and what is
// allowed (R52). It wraps [ErrInvalid]. Functions that find several problems
// return them all, joined with [errors.Join]; use [errors.As] to reach one.
type PropertyError struct {
	Name    string // the property, as given
	Problem string // what was wrong
	Allowed string // what is allowed instead; may be empty
}

// Error formats the problem as `property "Name": Problem (allowed: Allowed)`.
func (e *PropertyError) Error() string {
	if e.Allowed == "" {
		return fmt.Sprintf("property %q: %s", e.Name, e.Problem)
	}
	return fmt.Sprintf("property %q: %s (allowed: %s)", e.Name, e.Problem, e.Allowed)
}

// Unwrap returns [ErrInvalid].
func (e *PropertyError) Unwrap() error { return ErrInvalid }
