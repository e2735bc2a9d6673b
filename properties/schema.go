package properties

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxNameLength is the longest property name, in bytes, a schema accepts
// (R59).
const MaxNameLength = 128

// Property declares one private property of a resource type (R50).
type Property struct {
	// Name is how the property is stored and addressed: 1 to
	// MaxNameLength printable characters, no spaces at either end. Names
	// are unique in a schema, compared without regard to case (as the
	// Windows cluster database compares them).
	Name string

	// Kind is the type of the property's value. Required.
	Kind Kind

	// Default is the value the property has when none was set; nil for no
	// default. It must be of Kind and within Min, Max and Allowed.
	Default any

	// Min and Max bound the value, inclusive; nil for no bound. Only for
	// the ordered kinds: Int64, Uint32, Uint64 and Duration.
	Min, Max any

	// Allowed, when not empty, lists the only values the property may take.
	// Only for String, Int64, Uint32, Uint64 and Duration.
	Allowed []any

	// Description is a short, one-line description, as a property sheet
	// shows it.
	Description string

	// Help is the long description: what the property does, its unit and
	// when a change takes effect.
	Help string

	// Required properties must be given a value when a resource is
	// created.
	Required bool

	// ReadOnly properties are set by the resource type, never by an
	// administrator (R51's "read-only private properties").
	ReadOnly bool

	// Unique properties must differ between all resources of the type (a
	// port, a virtual server's name).
	Unique bool

	// Reloadable properties can change while the resource is Online
	// without a restart (R58).
	Reloadable bool

	// MaxSize, when not zero, is the largest value in bytes of a String,
	// MultiString or Binary property (counted as [MaxValueSize] counts);
	// zero means MaxValueSize, which it may not exceed (R59).
	MaxSize int

	// Validate, when not nil, checks a value after its kind, size, range
	// and allowed values have passed (R52): v is of the property's Kind.
	// Its error should say what was wrong and what is allowed; it becomes
	// the Problem of a *[PropertyError] (or is used as it is, when it is
	// one). It must be safe for concurrent use; a panic in it is
	// recovered and reported as a problem with the value.
	Validate func(v any) error
}

// sized reports whether MaxSize applies to kind k.
func sized(k Kind) bool { return k == String || k == MultiString || k == Binary }

// maxSize is the size bound of p's values.
func (p *Property) maxSize() int {
	if p.MaxSize > 0 {
		return p.MaxSize
	}
	return MaxValueSize
}

// checkAll reports every way v, which is of p.Kind, breaks p's text, size,
// range, allowed values or validator, as *PropertyErrors. what names the
// value in messages ("value", "Default").
func (p *Property) checkAll(what string, v any) []error {
	bad := func(problem, allowed string) []error {
		return []error{&PropertyError{Name: p.Name, Problem: problem, Allowed: allowed}}
	}
	switch x := v.(type) {
	case string:
		if why := checkText(x); why != "" {
			return bad(what+" "+why, "UTF-8 text without NUL characters")
		}
	case []string:
		for i, s := range x {
			if why := checkText(s); why != "" {
				return bad(fmt.Sprintf("%s: string %d %s", what, i, why), "UTF-8 text without NUL characters")
			}
		}
	}
	if n := valueSize(v); n > p.maxSize() {
		return bad(fmt.Sprintf("%s is %d bytes", what, n), fmt.Sprintf("at most %d bytes", p.maxSize()))
	}
	if err := p.checkValue(what, v); err != nil {
		return []error{err}
	}
	if err := p.runValidator(what, v); err != nil {
		return []error{err}
	}
	return nil
}

// runValidator calls p.Validate, recovering a panic, and returns its
// verdict as a *PropertyError.
func (p *Property) runValidator(what string, v any) (err error) {
	if p.Validate == nil {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = &PropertyError{Name: p.Name, Problem: fmt.Sprintf("%s was refused: the validator panicked: %v", what, r)}
		}
	}()
	verr := p.Validate(clone(v))
	if verr == nil {
		return nil
	}
	var pe *PropertyError
	if errors.As(verr, &pe) {
		return &PropertyError{Name: p.Name, Problem: pe.Problem, Allowed: pe.Allowed}
	}
	return &PropertyError{Name: p.Name, Problem: fmt.Sprintf("%s was refused: %v", what, verr)}
}

// ordered reports whether Min and Max apply to kind k.
func ordered(k Kind) bool {
	return k == Int64 || k == Uint32 || k == Uint64 || k == Duration
}

// enumerable reports whether Allowed applies to kind k.
func enumerable(k Kind) bool { return k == String || ordered(k) }

// compare compares two values of one ordered kind.
func compare(a, b any) int {
	switch x := a.(type) {
	case int64:
		return cmpOrdered(x, b.(int64))
	case uint32:
		return cmpOrdered(x, b.(uint32))
	case uint64:
		return cmpOrdered(x, b.(uint64))
	case time.Duration:
		return cmpOrdered(x, b.(time.Duration))
	}
	panic(fmt.Sprintf("properties: compare of unordered %T", a)) // unreachable: callers check ordered(kind)
}

func cmpOrdered[T int64 | uint32 | uint64 | time.Duration](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// equal reports whether two values of one kind are equal.
func equal(a, b any) bool {
	switch x := a.(type) {
	case []string:
		y, ok := b.([]string)
		return ok && slices.Equal(x, y)
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	}
	return a == b
}

// checkValue reports how v breaks p's declared range or allowed values, as
// a *PropertyError, or nil. v must already be of p.Kind.
func (p *Property) checkValue(what string, v any) error {
	if p.Min != nil && compare(v, p.Min) < 0 || p.Max != nil && compare(v, p.Max) > 0 {
		return &PropertyError{Name: p.Name, Problem: fmt.Sprintf("%s %s is out of range", what, showValue(v)), Allowed: p.rangeText()}
	}
	if len(p.Allowed) > 0 && !slices.ContainsFunc(p.Allowed, func(a any) bool { return equal(a, v) }) {
		return &PropertyError{Name: p.Name, Problem: fmt.Sprintf("%s %s is not an allowed value", what, showValue(v)), Allowed: p.allowedText()}
	}
	return nil
}

func (p *Property) rangeText() string {
	switch {
	case p.Min != nil && p.Max != nil:
		return fmt.Sprintf("%v to %v", p.Min, p.Max)
	case p.Min != nil:
		return fmt.Sprintf("%v or more", p.Min)
	default:
		return fmt.Sprintf("%v or less", p.Max)
	}
}

func (p *Property) allowedText() string {
	s := make([]string, len(p.Allowed))
	for i, a := range p.Allowed {
		s[i] = fmt.Sprint(a)
	}
	return "one of " + strings.Join(s, ", ")
}

// validate checks the declaration itself and returns every problem.
func (p *Property) validate() []error {
	var errs []error
	bad := func(problem, allowed string) {
		errs = append(errs, &PropertyError{Name: p.Name, Problem: problem, Allowed: allowed})
	}
	if err := checkName(p.Name); err != nil {
		errs = append(errs, err)
	}
	if !p.Kind.Valid() {
		bad(fmt.Sprintf("kind %v is not a property kind", p.Kind), "string, multi-string, int64, uint32, uint64, bool, duration or binary")
		return errs // nothing else can be checked without a kind
	}
	kindOK := func(field string, v any) bool {
		if err := p.Kind.check(v); err != nil {
			bad(field+": "+err.Error(), "a value of kind "+p.Kind.String())
			return false
		}
		return true
	}
	boundsOK := true
	for _, b := range []struct {
		field string
		v     any
	}{{"Min", p.Min}, {"Max", p.Max}} {
		if b.v == nil {
			continue
		}
		if !ordered(p.Kind) {
			bad(b.field+" is set on a "+p.Kind.String()+" property", "Min and Max only on int64, uint32, uint64 and duration properties")
			boundsOK = false
		} else if !kindOK(b.field, b.v) {
			boundsOK = false
		}
	}
	if boundsOK && p.Min != nil && p.Max != nil && compare(p.Min, p.Max) > 0 {
		bad(fmt.Sprintf("Min %v is above Max %v", p.Min, p.Max), "Min at most Max")
		boundsOK = false
	}
	allowedOK := true
	if len(p.Allowed) > 0 && !enumerable(p.Kind) {
		bad("Allowed is set on a "+p.Kind.String()+" property", "Allowed only on string, int64, uint32, uint64 and duration properties")
		allowedOK = false
	} else {
		for i, a := range p.Allowed {
			allowedOK = kindOK(fmt.Sprintf("Allowed[%d]", i), a) && allowedOK
		}
	}
	sizeOK := true
	switch {
	case p.MaxSize != 0 && !sized(p.Kind):
		bad("MaxSize is set on a "+p.Kind.String()+" property", "MaxSize only on string, multi-string and binary properties")
		sizeOK = false
	case p.MaxSize < 0 || p.MaxSize > MaxValueSize:
		bad(fmt.Sprintf("MaxSize %d is out of range", p.MaxSize), fmt.Sprint("0 (meaning ", MaxValueSize, ") to ", MaxValueSize))
		sizeOK = false
	}
	if p.Default != nil && kindOK("Default", p.Default) && boundsOK && allowedOK && sizeOK {
		errs = append(errs, p.checkAll("Default", p.Default)...)
	}
	return errs
}

// checkName reports a property name that breaks R59's bounds.
func checkName(name string) error {
	allowed := fmt.Sprint("1 to ", MaxNameLength, " printable characters without leading or trailing spaces")
	switch {
	case name == "":
		return &PropertyError{Name: name, Problem: "the name is empty", Allowed: allowed}
	case len(name) > MaxNameLength:
		return &PropertyError{Name: shorten(name), Problem: fmt.Sprintf("the name is %d bytes long", len(name)), Allowed: allowed}
	case strings.TrimSpace(name) != name:
		return &PropertyError{Name: name, Problem: "the name has leading or trailing spaces", Allowed: allowed}
	case strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 || !utf8.ValidString(name):
		return &PropertyError{Name: name, Problem: "the name has unprintable characters", Allowed: allowed}
	}
	return nil
}

// shorten cuts an overlong name for a message, on a character boundary.
func shorten(name string) string {
	n := 0
	for i := range name {
		if n == 32 {
			return name[:i] + "…"
		}
		n++
	}
	return name
}

// Schema is the ordered, immutable list of a resource type's private
// properties (R50). Build one with [NewSchema]; a nil *Schema is an empty
// schema.
type Schema struct {
	props []Property
	index map[string]int // lower-case name -> position in props
}

// NewSchema checks the declarations and returns their schema. It reports
// every problem at once, joined with [errors.Join], each a *[PropertyError]
// wrapping [ErrInvalid]: a bad or duplicate name (duplicates compare without
// regard to case), a missing kind, a Default, Min, Max or Allowed value of
// the wrong kind, bounds on a kind without order, Min above Max, a Default
// outside the range or allowed values.
func NewSchema(props ...Property) (*Schema, error) {
	s := &Schema{props: make([]Property, len(props)), index: make(map[string]int, len(props))}
	var errs []error
	seen := make(map[string]string, len(props))
	for i, p := range props {
		errs = append(errs, p.validate()...)
		if first, dup := seen[strings.ToLower(p.Name)]; dup && p.Name != "" {
			errs = append(errs, &PropertyError{Name: p.Name, Problem: fmt.Sprintf("declared twice (also as %q)", first), Allowed: "each name once, compared without regard to case"})
		} else {
			seen[strings.ToLower(p.Name)] = p.Name
		}
		p.Default = clone(p.Default)
		p.Allowed = slices.Clone(p.Allowed)
		s.props[i] = p
		s.index[strings.ToLower(p.Name)] = i
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return s, nil
}

// MustSchema is NewSchema for declarations fixed in the program's source: it
// panics if they are wrong. Use NewSchema for schemas built at run time.
func MustSchema(props ...Property) *Schema {
	s, err := NewSchema(props...)
	if err != nil {
		panic(err)
	}
	return s
}

// Len returns the number of properties.
func (s *Schema) Len() int {
	if s == nil {
		return 0
	}
	return len(s.props)
}

// Properties returns a copy of the declarations, in declaration order.
func (s *Schema) Properties() []Property {
	if s == nil {
		return nil
	}
	out := make([]Property, len(s.props))
	for i, p := range s.props {
		p.Default = clone(p.Default)
		p.Allowed = slices.Clone(p.Allowed)
		out[i] = p
	}
	return out
}

// Lookup returns the declaration of the named property. Names match without
// regard to case, as the Windows cluster database matches them.
func (s *Schema) Lookup(name string) (Property, bool) {
	if s == nil {
		return Property{}, false
	}
	i, ok := s.index[strings.ToLower(name)]
	if !ok {
		return Property{}, false
	}
	p := s.props[i]
	p.Default = clone(p.Default)
	p.Allowed = slices.Clone(p.Allowed)
	return p, true
}

// Defaults returns the declared defaults of the properties that have one.
func (s *Schema) Defaults() Values {
	var v Values
	if s == nil {
		return v
	}
	for _, p := range s.props {
		if p.Default != nil {
			v.set(p.Name, p.Default)
		}
	}
	return v
}
