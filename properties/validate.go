package properties

import (
	"fmt"
	"strings"
)

// ValidateUpdate checks values an administrator asks to set (R52, R59): it
// reports every problem at once, joined with [errors.Join], each a
// *[PropertyError] wrapping [ErrInvalid] that names the property, what was
// wrong and what is allowed: an unknown name, a name given twice (names
// match without regard to case), an attempt to set a read-only property, a
// value of the wrong kind, text that is not UTF-8 or holds a NUL, a value
// too large, out of range or not among the allowed values, and a value the
// property's validator refuses. After [MaxProblems] problems, one more error
// says how many were left out.
//
// Whether required properties have values depends on what is stored, so
// ValidateUpdate does not check it; [Schema.ValidateValues] and
// [Manager.Validate] do.
func (s *Schema) ValidateUpdate(update Values) error {
	_, errs, _ := s.checkUpdate(update, false)
	return limitErrors(errs)
}

// ValidateValues checks a complete set of values, such as a resource is
// opened with or an application's configuration holds (R52, R59): every
// check of [Schema.ValidateUpdate] but the read-only one, and every required
// property must have a value, its own or its default. A required property
// whose value is refused is reported once, for that value.
func (s *Schema) ValidateValues(vals Values) error {
	canon, errs, refused := s.checkUpdate(vals, true)
	errs = append(errs, s.checkRequired(s.Defaults().Merge(canon), refused)...)
	return limitErrors(errs)
}

// Canonical returns vals with each name spelled as the schema declares it
// (names match without regard to case), leaving names the schema does not
// know as they are.
//
// When vals holds one property under several spellings ("Port" and
// "port"), only one of them is renamed and the others are left as they
// are, so no value is lost and the answer never depends on map order: the
// spelling the schema declares keeps its value when vals has it; otherwise
// the first spelling in byte order is renamed.
func (s *Schema) Canonical(vals Values) Values {
	names := vals.Names() // sorted: a fixed choice between spellings
	taken := make(map[string]bool, len(names))
	for _, name := range names {
		if p := s.prop(name); p != nil && p.Name == name {
			taken[name] = true
		}
	}
	var out Values
	for _, name := range names {
		v := vals.m[name]
		if p := s.prop(name); p != nil && p.Name != name && !taken[p.Name] {
			taken[p.Name] = true
			out.set(p.Name, v)
			continue
		}
		out.set(name, v)
	}
	return out
}

// list returns the declarations, in order; nil for a nil schema. Callers
// must not change them.
func (s *Schema) list() []Property {
	if s == nil {
		return nil
	}
	return s.props
}

// prop returns the declaration of name, matched without regard to case, or
// nil. It returns the schema's own copy: callers must not change it.
func (s *Schema) prop(name string) *Property {
	if s == nil {
		return nil
	}
	i, ok := s.index[strings.ToLower(name)]
	if !ok {
		return nil
	}
	return &s.props[i]
}

// checkUpdate checks each value of update and returns the values that
// passed, under their declared names, with the problems of the others, and
// the declared names of the properties whose value it refused, so that
// checkRequired does not report them a second time.
func (s *Schema) checkUpdate(update Values, allowReadOnly bool) (Values, []error, map[string]bool) {
	var (
		out     Values
		errs    []error
		seen    = make(map[string]string, update.Len())
		refused = make(map[string]bool)
	)
	for _, name := range update.Names() {
		if err := checkName(name); err != nil {
			errs = append(errs, err)
			continue
		}
		p := s.prop(name)
		if p == nil {
			errs = append(errs, &PropertyError{Name: name, Problem: "unknown property", Allowed: s.namesText(allowReadOnly)})
			continue
		}
		if first, dup := seen[strings.ToLower(name)]; dup {
			errs = append(errs, &PropertyError{Name: name, Problem: fmt.Sprintf("given twice (also as %q)", first),
				Allowed: "each property once; names match without regard to case"})
			continue
		}
		seen[strings.ToLower(name)] = name
		if p.ReadOnly && !allowReadOnly {
			errs = append(errs, &PropertyError{Name: name, Problem: "is read-only: the resource type sets it",
				Allowed: s.namesText(false)})
			refused[p.Name] = true
			continue
		}
		v := update.m[name]
		if err := p.Kind.check(v); err != nil {
			errs = append(errs, &PropertyError{Name: name, Problem: err.Error(), Allowed: "a value of kind " + p.Kind.String()})
			refused[p.Name] = true
			continue
		}
		if perrs := p.checkAll("value", v); len(perrs) > 0 {
			errs = append(errs, perrs...)
			refused[p.Name] = true
			continue
		}
		out.set(p.Name, v)
	}
	return out, errs, refused
}

// checkRequired reports each required property that has no value in vals,
// but those named in skip: their value was refused and is reported
// already.
func (s *Schema) checkRequired(vals Values, skip map[string]bool) []error {
	var errs []error
	props := s.list()
	for i := range props {
		p := &props[i]
		if p.Required && !vals.Has(p.Name) && !skip[p.Name] {
			errs = append(errs, &PropertyError{Name: p.Name, Problem: "is required but has no value",
				Allowed: "a value of kind " + p.Kind.String()})
		}
	}
	return errs
}

// namesText lists the names that may be set, for an "allowed" text.
func (s *Schema) namesText(withReadOnly bool) string {
	const most = 20
	var names []string
	for i := range s.Len() {
		p := &s.props[i]
		if withReadOnly || !p.ReadOnly {
			names = append(names, p.Name)
		}
	}
	switch {
	case len(names) == 0:
		return "no property can be set"
	case len(names) > most:
		return fmt.Sprintf("one of %s and %d more", strings.Join(names[:most], ", "), len(names)-most)
	}
	return "one of " + strings.Join(names, ", ")
}
