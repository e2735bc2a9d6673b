package properties

import (
	"fmt"
	"time"
)

// Kind is the type of a property's value (R50). Each kind has one Go type,
// which [Values] holds and the typed accessors return:
//
//	String       string
//	MultiString  []string
//	Int64        int64
//	Uint32       uint32
//	Uint64       uint64
//	Bool         bool
//	Duration     time.Duration
//	Binary       []byte
//
// The zero Kind is invalid, so a [Property] whose kind was forgotten is
// refused by [NewSchema].
type Kind uint8

// The kinds of property values.
const (
	KindInvalid Kind = iota
	String
	MultiString
	Int64
	Uint32
	Uint64
	Bool
	Duration
	Binary
)

var kindNames = [...]string{
	KindInvalid: "invalid",
	String:      "string",
	MultiString: "multi-string",
	Int64:       "int64",
	Uint32:      "uint32",
	Uint64:      "uint64",
	Bool:        "bool",
	Duration:    "duration",
	Binary:      "binary",
}

// String returns the kind's name as the schema and error messages spell it,
// such as "multi-string".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Valid reports whether k is one of the eight kinds.
func (k Kind) Valid() bool { return k > KindInvalid && int(k) < len(kindNames) }

// KindOf returns the kind whose Go type v has, and false if v is of no kind
// (an int, a float, nil, …). A time.Duration is Duration, not Int64.
func KindOf(v any) (Kind, bool) {
	switch v.(type) {
	case string:
		return String, true
	case []string:
		return MultiString, true
	case int64:
		return Int64, true
	case uint32:
		return Uint32, true
	case uint64:
		return Uint64, true
	case bool:
		return Bool, true
	case time.Duration:
		return Duration, true
	case []byte:
		return Binary, true
	}
	return KindInvalid, false
}

// goTypeNames names the Go type of each kind, for error messages.
var goTypeNames = [...]string{
	String:      "string",
	MultiString: "[]string",
	Int64:       "int64",
	Uint32:      "uint32",
	Uint64:      "uint64",
	Bool:        "bool",
	Duration:    "time.Duration",
	Binary:      "[]byte",
}

// check returns nil if v is a value of kind k, and otherwise an error that
// says what v is and what k takes.
func (k Kind) check(v any) error {
	got, ok := KindOf(v)
	if ok && got == k {
		return nil
	}
	if !k.Valid() {
		return fmt.Errorf("kind %v is not one of the eight property kinds", k)
	}
	if ok {
		return fmt.Errorf("value is of kind %v, not %v (Go type %s)", got, k, goTypeNames[k])
	}
	return fmt.Errorf("value of Go type %T is of no property kind, not %v (Go type %s)", v, k, goTypeNames[k])
}

// clone returns a copy of v that shares no memory with it (slices are
// copied), so Values never alias a caller's slice.
func clone(v any) any {
	switch x := v.(type) {
	case []string:
		if x == nil {
			return x
		}
		return append(make([]string, 0, len(x)), x...)
	case []byte:
		if x == nil {
			return x
		}
		return append(make([]byte, 0, len(x)), x...)
	}
	return v
}
