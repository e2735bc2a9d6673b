package properties

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// JSON has two forms here (R50).
//
// The plain form is what an administrator writes and reads: an object of
// property names and values, each value in its kind's natural JSON form,
// read as the kind its schema declares ([Schema.DecodeJSON],
// [Schema.EncodeJSON]):
//
//	{"VirtualServer": "SMTP-1", "Port": 587, "Timeout": "1m30s",
//	 "Protocols": ["smtp", "imap"], "Certificate": "3q2+7w=="}
//
// The typed form needs no schema, because each value names its kind; it is
// what [Values] marshals to, and it keeps every kind exact
// ([Values.MarshalJSON], [Values.UnmarshalJSON]):
//
//	{"Port": {"uint32": 587}, "Timeout": {"duration": "1m30s"}}
//
// In both forms Int64, Uint32 and Uint64 are JSON numbers written with
// every digit, so an int64 near 2^63 or a uint64 above 2^63 survives (a
// reader that parses numbers as float64, as JavaScript does, should send
// them as strings of digits, which decoding accepts too); a Duration is a
// string in Go's form ("1h30m", "250ms"); a Binary is base64 text (standard
// alphabet, padded); a MultiString is an array of strings.

// kindAllowed says what JSON each kind accepts.
func kindAllowed(k Kind) string {
	switch k {
	case String:
		return "a JSON string"
	case MultiString:
		return "a JSON array of strings"
	case Int64:
		return "a whole number from -9223372036854775808 to 9223372036854775807 (a JSON number or a string of digits)"
	case Uint32:
		return "a whole number from 0 to 4294967295 (a JSON number or a string of digits)"
	case Uint64:
		return "a whole number from 0 to 18446744073709551615 (a JSON number or a string of digits)"
	case Bool:
		return "true or false"
	case Duration:
		return `a duration string such as "30s", "1h30m" or "250ms"`
	case Binary:
		return "base64 text (standard alphabet, padded)"
	}
	return "one of the eight property kinds"
}

// member is one name and raw value of a JSON object.
type member struct {
	name string
	raw  json.RawMessage
}

// readObject reads data as one JSON object and returns its members in
// order. It bounds the input's size (R59) and refuses anything else: text
// that is not UTF-8 (which encoding/json would silently replace with
// U+FFFD), not an object, bad syntax, data after the object.
func readObject(data []byte) ([]member, error) {
	const allowed = "a JSON object of property names and values"
	if len(data) > MaxInputSize {
		return nil, fmt.Errorf("%w: JSON input is %d bytes (allowed: at most %d bytes)", ErrInvalid, len(data), MaxInputSize)
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%w: JSON input is not valid UTF-8 (allowed: %s, in UTF-8; bytes go in a binary value, as base64)", ErrInvalid, allowed)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err == io.EOF {
		return nil, fmt.Errorf("%w: JSON input is empty (allowed: %s)", ErrInvalid, allowed)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: JSON input is not valid JSON: %v (allowed: %s)", ErrInvalid, err, allowed)
	}
	if tok != json.Delim('{') {
		return nil, fmt.Errorf("%w: JSON input is %s, not an object (allowed: %s)", ErrInvalid, tokenText(tok), allowed)
	}
	var ms []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: JSON input is not valid JSON: %v (allowed: %s)", ErrInvalid, err, allowed)
		}
		name, ok := tok.(string)
		if !ok { // unreachable: the decoder only yields string keys
			return nil, fmt.Errorf("%w: JSON input has a key that is not a string (allowed: %s)", ErrInvalid, allowed)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%w: JSON input is not valid JSON at property %q: %v (allowed: %s)", ErrInvalid, shorten(name), err, allowed)
		}
		ms = append(ms, member{name: name, raw: raw})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, fmt.Errorf("%w: JSON input is not valid JSON: %v (allowed: %s)", ErrInvalid, err, allowed)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: JSON input has data after the object (allowed: %s)", ErrInvalid, allowed)
	}
	return ms, nil
}

// tokenText describes a top-level JSON token.
func tokenText(tok json.Token) string {
	switch tok.(type) {
	case json.Delim:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

// jsonType names the JSON type of a raw value.
func jsonType(raw []byte) string {
	switch raw[0] {
	case '"':
		return "a string"
	case '[':
		return "an array"
	case '{':
		return "an object"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// quoteRaw shows a raw JSON value in a message, shortened.
func quoteRaw(raw []byte) string {
	s := string(raw)
	if len(s) > 40 {
		return shorten(s)
	}
	return s
}

// decodeAs reads one raw JSON value as kind k. On failure it returns the
// problem, to be reported with kindAllowed(k).
func decodeAs(k Kind, raw []byte) (any, string) {
	typ := jsonType(raw)
	wrongType := func(want string) (any, string) {
		return nil, fmt.Sprintf("value is %s, not %s", typ, want)
	}
	asString := func() (string, bool) {
		var s string
		return s, typ == "a string" && json.Unmarshal(raw, &s) == nil
	}
	whole := func() (string, bool) {
		if typ == "a number" {
			return string(raw), true
		}
		return asString()
	}
	intProblem := func(text string, err error) string {
		if errors.Is(err, strconv.ErrRange) {
			return fmt.Sprintf("value %s is out of range for %v", quoteRaw([]byte(text)), k)
		}
		return fmt.Sprintf("value %s is not a whole number", quoteRaw(raw))
	}
	switch k {
	case String:
		s, ok := asString()
		if !ok {
			return wrongType("a string")
		}
		return s, ""
	case MultiString:
		if typ != "an array" {
			return wrongType("an array of strings")
		}
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, "value is not an array of strings: " + err.Error()
		}
		out := make([]string, 0, len(items))
		for i, item := range items {
			var s string
			if jsonType(item) != "a string" || json.Unmarshal(item, &s) != nil {
				return nil, fmt.Sprintf("item %d is %s, not a string", i, jsonType(item))
			}
			out = append(out, s)
		}
		return out, ""
	case Int64:
		text, ok := whole()
		if !ok {
			return wrongType("a whole number")
		}
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, intProblem(text, err)
		}
		return n, ""
	case Uint32, Uint64:
		text, ok := whole()
		if !ok {
			return wrongType("a whole number")
		}
		bits := 64
		if k == Uint32 {
			bits = 32
		}
		n, err := strconv.ParseUint(text, 10, bits)
		if err != nil {
			if isNegativeWhole(text) {
				return nil, fmt.Sprintf("value %s is out of range for %v", quoteRaw([]byte(text)), k)
			}
			return nil, intProblem(text, err)
		}
		if k == Uint32 {
			return uint32(n), ""
		}
		return n, ""
	case Bool:
		switch string(raw) {
		case "true":
			return true, ""
		case "false":
			return false, ""
		}
		return wrongType("true or false")
	case Duration:
		s, ok := asString()
		if !ok {
			return wrongType("a duration string")
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return nil, fmt.Sprintf("value %s is not a duration: %v", quoteRaw(raw), err)
		}
		return d, ""
	case Binary:
		s, ok := asString()
		if !ok {
			return wrongType("base64 text")
		}
		b, err := base64.StdEncoding.Strict().DecodeString(s)
		if err != nil {
			return nil, "value is not valid base64: " + err.Error()
		}
		return b, ""
	}
	return nil, fmt.Sprintf("kind %v is not a property kind", k)
}

// isNegativeWhole reports whether text is a minus sign and digits.
func isNegativeWhole(text string) bool {
	if len(text) < 2 || text[0] != '-' {
		return false
	}
	return strings.Trim(text[1:], "0123456789") == ""
}

// appendPlain appends v, of one of the kinds, in plain JSON form. It
// refuses text that JSON cannot carry exactly (invalid UTF-8).
func appendPlain(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return appendString(buf, x)
	case []string:
		buf = append(buf, '[')
		for i, s := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			var err error
			if buf, err = appendString(buf, s); err != nil {
				return nil, fmt.Errorf("string %d: %w", i, err)
			}
		}
		return append(buf, ']'), nil
	case int64:
		return strconv.AppendInt(buf, x, 10), nil
	case uint32:
		return strconv.AppendUint(buf, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(buf, x, 10), nil
	case bool:
		return strconv.AppendBool(buf, x), nil
	case time.Duration:
		return strconv.AppendQuote(buf, x.String()), nil
	case []byte:
		buf = append(buf, '"')
		buf = base64.StdEncoding.AppendEncode(buf, x)
		return append(buf, '"'), nil
	}
	return nil, fmt.Errorf("value of Go type %T is of no property kind", v)
}

// appendString appends s as a JSON string, refusing invalid UTF-8 (which
// JSON would replace, losing data).
func appendString(buf []byte, s string) ([]byte, error) {
	if !isUTF8(s) {
		return nil, errors.New("text is not valid UTF-8, which JSON cannot carry")
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return append(buf, bytes.TrimSuffix(b.Bytes(), []byte("\n"))...), nil
}

// DecodeJSON reads values in the plain JSON form (see the comment at the top
// of json.go, and the package documentation), each read as the kind its
// property declares; names match without regard to case and come back
// spelled as declared. It reports every problem at once (R52, R59): an
// input too large, not an object or not valid JSON (then nothing else is
// read); an unknown name; a name given twice; a value JSON cannot read as
// its kind. Each problem is a *[PropertyError] wrapping [ErrInvalid] that
// names the property and says what was wrong and what is allowed.
//
// DecodeJSON only decodes: ranges, read-only and required properties are
// checked by [Schema.ValidateUpdate] and [Manager.Validate]. On error the
// returned Values holds the members that did decode, so a caller can
// validate those too and report every problem at once.
func (s *Schema) DecodeJSON(data []byte) (Values, error) {
	ms, err := readObject(data)
	if err != nil {
		return Values{}, err
	}
	var (
		out  Values
		errs []error
		seen = make(map[string]string, len(ms))
	)
	for _, m := range ms {
		if err := checkName(m.name); err != nil {
			errs = append(errs, err)
			continue
		}
		p := s.prop(m.name)
		if p == nil {
			errs = append(errs, &PropertyError{Name: m.name, Problem: "unknown property", Allowed: s.namesText(true)})
			continue
		}
		key := strings.ToLower(m.name)
		if first, dup := seen[key]; dup {
			errs = append(errs, &PropertyError{Name: m.name, Problem: fmt.Sprintf("given twice (also as %q)", first),
				Allowed: "each property once; names match without regard to case"})
			continue
		}
		seen[key] = m.name
		v, problem := decodeAs(p.Kind, m.raw)
		if problem != "" {
			errs = append(errs, &PropertyError{Name: m.name, Problem: problem, Allowed: kindAllowed(p.Kind)})
			continue
		}
		out.set(p.Name, v)
	}
	return out, limitErrors(errs)
}

// EncodeJSON writes vals in the plain JSON form: the schema's properties in
// declaration order, then any other names in sorted order. It fails only on
// text JSON cannot carry exactly (invalid UTF-8), naming the property.
func (s *Schema) EncodeJSON(vals Values) ([]byte, error) {
	names := make([]string, 0, vals.Len())
	for i := range s.Len() {
		if vals.Has(s.props[i].Name) {
			names = append(names, s.props[i].Name)
		}
	}
	for _, name := range vals.Names() {
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return encodeObject(names, vals, appendPlain)
}

// encodeObject writes the named values of vals as a JSON object, each value
// written by enc.
func encodeObject(names []string, vals Values, enc func([]byte, any) ([]byte, error)) ([]byte, error) {
	buf := []byte{'{'}
	for i, name := range names {
		if i > 0 {
			buf = append(buf, ',')
		}
		var err error
		if buf, err = appendString(buf, name); err != nil {
			return nil, &PropertyError{Name: name, Problem: "the name " + err.Error()}
		}
		buf = append(buf, ':')
		if buf, err = enc(buf, vals.m[name]); err != nil {
			return nil, &PropertyError{Name: name, Problem: "cannot be written as JSON: " + err.Error()}
		}
	}
	return append(buf, '}'), nil
}

// appendTyped appends v in the typed form: {"kind": plain}.
func appendTyped(buf []byte, v any) ([]byte, error) {
	k, ok := KindOf(v)
	if !ok {
		return nil, fmt.Errorf("value of Go type %T is of no property kind", v)
	}
	buf = append(buf, `{"`...)
	buf = append(buf, k.String()...)
	buf = append(buf, `":`...)
	buf, err := appendPlain(buf, v)
	if err != nil {
		return nil, err
	}
	return append(buf, '}'), nil
}

// MarshalJSON writes v in the typed form, {"Name": {"kind": value}, …},
// sorted by name, which keeps every kind exact (R50). It fails only on
// text JSON cannot carry exactly (invalid UTF-8), naming the property.
func (v Values) MarshalJSON() ([]byte, error) {
	return encodeObject(v.Names(), v, appendTyped)
}

// UnmarshalJSON reads the typed form that MarshalJSON writes. It checks
// what it reads (R59): a bounded input of UTF-8 text, names within
// [MaxNameLength], each name once, each value an object with exactly one
// member named by a kind ("string", "multi-string", "int64", "uint32",
// "uint64", "bool", "duration", "binary") and holding a value of that kind,
// of at most [MaxValueSize] bytes (as [MarshalValue] and [CheckPut] bound
// it). The typed form has no schema, so it takes any text the store takes;
// a property's own text rules (no NUL character) are checked by
// [Schema.ValidateUpdate] and the set. It reports every problem at once
// and, on any problem, leaves v unchanged.
func (v *Values) UnmarshalJSON(data []byte) error {
	ms, err := readObject(data)
	if err != nil {
		return err
	}
	var (
		out  Values
		errs []error
	)
	kinds := make([]string, 0, len(kindNames)-1)
	for k := String; k.Valid(); k++ {
		kinds = append(kinds, strconv.Quote(k.String()))
	}
	allowed := `an object with one member, named by the value's kind (` + strings.Join(kinds, ", ") + `)`
	for _, m := range ms {
		if err := checkName(m.name); err != nil {
			errs = append(errs, err)
			continue
		}
		if out.Has(m.name) {
			errs = append(errs, &PropertyError{Name: m.name, Problem: "given twice", Allowed: "each name once"})
			continue
		}
		if jsonType(m.raw) != "an object" {
			errs = append(errs, &PropertyError{Name: m.name, Problem: "value is " + jsonType(m.raw) + ", not an object", Allowed: allowed})
			continue
		}
		inner, err := readObject(m.raw)
		if err != nil || len(inner) != 1 {
			errs = append(errs, &PropertyError{Name: m.name, Problem: fmt.Sprintf("value has %d members", len(inner)), Allowed: allowed})
			continue
		}
		k := kindByName(inner[0].name)
		if !k.Valid() {
			errs = append(errs, &PropertyError{Name: m.name, Problem: fmt.Sprintf("kind %q is not a property kind", shorten(inner[0].name)), Allowed: allowed})
			continue
		}
		x, problem := decodeAs(k, inner[0].raw)
		if problem != "" {
			errs = append(errs, &PropertyError{Name: m.name, Problem: problem, Allowed: kindAllowed(k)})
			continue
		}
		if n := valueSize(x); n > MaxValueSize {
			errs = append(errs, &PropertyError{Name: m.name, Problem: fmt.Sprintf("value is %d bytes", n),
				Allowed: fmt.Sprintf("at most %d bytes", MaxValueSize)})
			continue
		}
		out.set(m.name, x)
	}
	if err := limitErrors(errs); err != nil {
		return err
	}
	*v = out
	return nil
}

// kindByName returns the kind String names name, or KindInvalid.
func kindByName(name string) Kind {
	for k := String; k.Valid(); k++ {
		if k.String() == name {
			return k
		}
	}
	return KindInvalid
}
