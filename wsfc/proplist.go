package wsfc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/resdll/resdll/properties"
)

// ErrMalformed is wrapped when a property list is not in the wire format:
// a length beyond the buffer, a missing name or end mark, text that is not
// NUL-terminated UTF-16 (Windows' ERROR_INVALID_DATA).
var ErrMalformed = errors.New("wsfc: malformed property list")

// CLUSPROP_SYNTAX values: format | type<<16 (clusapi.h).
const (
	syntaxEndmark         uint32 = 0x00000000 // CLUSPROP_SYNTAX_ENDMARK
	syntaxName            uint32 = 0x00040003 // CLUSPROP_SYNTAX_NAME
	syntaxBinary          uint32 = 0x00010001 // CLUSPROP_SYNTAX_LIST_VALUE_BINARY
	syntaxDword           uint32 = 0x00010002 // CLUSPROP_SYNTAX_LIST_VALUE_DWORD
	syntaxSz              uint32 = 0x00010003 // CLUSPROP_SYNTAX_LIST_VALUE_SZ
	syntaxExpandSz        uint32 = 0x00010004 // CLUSPROP_SYNTAX_LIST_VALUE_EXPAND_SZ
	syntaxMultiSz         uint32 = 0x00010005 // CLUSPROP_SYNTAX_LIST_VALUE_MULTI_SZ
	syntaxUlargeInteger   uint32 = 0x00010006 // CLUSPROP_SYNTAX_LIST_VALUE_ULARGE_INTEGER
	syntaxLong            uint32 = 0x00010007 // CLUSPROP_SYNTAX_LIST_VALUE_LONG
	syntaxExpandedSz      uint32 = 0x00010008 // CLUSPROP_SYNTAX_LIST_VALUE_EXPANDED_SZ
	syntaxLargeInteger    uint32 = 0x0001000A // CLUSPROP_SYNTAX_LIST_VALUE_LARGE_INTEGER
	syntaxWord            uint32 = 0x0001000B // CLUSPROP_SYNTAX_LIST_VALUE_WORD
	formatMask            uint32 = 0x0000FFFF
	maxPropertyListValues        = 1 << 12 // entries one property may carry
)

// Format returns the CLUSPROP_FORMAT_* a property of kind k has on the wire:
// String SZ (3), MultiString MULTI_SZ (5), Int64 LARGE_INTEGER (10), Uint32
// DWORD (2), Uint64 ULARGE_INTEGER (6), Bool DWORD (0 or 1), Duration DWORD
// (whole milliseconds, as Windows gives its time-outs), Binary BINARY (1).
// It returns 0 (CLUSPROP_FORMAT_UNKNOWN) for an invalid kind.
func Format(k properties.Kind) uint16 {
	switch k {
	case properties.String:
		return uint16(syntaxSz & formatMask)
	case properties.MultiString:
		return uint16(syntaxMultiSz & formatMask)
	case properties.Int64:
		return uint16(syntaxLargeInteger & formatMask)
	case properties.Uint32, properties.Bool, properties.Duration:
		return uint16(syntaxDword & formatMask)
	case properties.Uint64:
		return uint16(syntaxUlargeInteger & formatMask)
	case properties.Binary:
		return uint16(syntaxBinary & formatMask)
	}
	return 0
}

// align rounds n up to a multiple of 4 (ALIGN_CLUSPROP).
func align(n int) int { return (n + 3) &^ 3 }

// listWriter appends the entries of a property list.
type listWriter struct{ b []byte }

func (w *listWriter) dword(v uint32) { w.b = binary.LittleEndian.AppendUint32(w.b, v) }

// entry appends one CLUSPROP_VALUE: syntax, cbLength, the data, and zero
// padding to the next multiple of 4.
func (w *listWriter) entry(syntax uint32, data []byte) {
	w.dword(syntax)
	w.dword(uint32(len(data)))
	w.b = append(w.b, data...)
	w.b = append(w.b, make([]byte, align(len(data))-len(data))...)
}

// utf16z encodes s as NUL-terminated UTF-16LE.
func utf16z(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(u)+2)
	for _, c := range u {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return append(b, 0, 0)
}

// EncodePropertyList writes vals as a Windows property list (CLUSPROP
// syntax): a DWORD count, then for each property a CLUSPROP_SYNTAX_NAME
// entry, its value as a LIST_VALUE entry of the format [Format] gives its
// kind, and CLUSPROP_SYNTAX_ENDMARK; every entry's data is padded to a
// multiple of 4 bytes. Properties come in schema order, then any others in
// sorted order. It fails, naming the property, on a value the wire format
// cannot carry: a Duration that is negative, not a whole number of
// milliseconds or longer than 2^32-1 ms, and a MultiString holding an empty
// string (MULTI_SZ ends at the first one).
func EncodePropertyList(schema *properties.Schema, vals properties.Values) ([]byte, error) {
	var w listWriter
	names := listOrder(schema, vals)
	w.dword(uint32(len(names)))
	var errs []error
	for _, name := range names {
		v, _ := vals.Get(name)
		syntax, data, err := encodeValue(v)
		if err != nil {
			errs = append(errs, &properties.PropertyError{Name: name, Problem: err.Error()})
			continue
		}
		w.entry(syntaxName, utf16z(name))
		w.entry(syntax, data)
		w.dword(syntaxEndmark)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("wsfc: encoding a property list: %w", err)
	}
	return w.b, nil
}

// listOrder lists the names of vals: the schema's first, in its order.
func listOrder(schema *properties.Schema, vals properties.Values) []string {
	var names []string
	seen := map[string]bool{}
	for _, p := range schema.Properties() {
		if vals.Has(p.Name) {
			names = append(names, p.Name)
			seen[p.Name] = true
		}
	}
	for _, n := range vals.Names() {
		if !seen[n] {
			names = append(names, n)
		}
	}
	return names
}

func encodeValue(v any) (uint32, []byte, error) {
	switch x := v.(type) {
	case string:
		return syntaxSz, utf16z(x), nil
	case []string:
		var b []byte
		for _, s := range x {
			if s == "" {
				return 0, nil, errors.New("a MULTI_SZ cannot hold an empty string")
			}
			b = append(b, utf16z(s)...)
		}
		return syntaxMultiSz, append(b, 0, 0), nil
	case int64:
		return syntaxLargeInteger, binary.LittleEndian.AppendUint64(nil, uint64(x)), nil
	case uint32:
		return syntaxDword, binary.LittleEndian.AppendUint32(nil, x), nil
	case uint64:
		return syntaxUlargeInteger, binary.LittleEndian.AppendUint64(nil, x), nil
	case bool:
		var d uint32
		if x {
			d = 1
		}
		return syntaxDword, binary.LittleEndian.AppendUint32(nil, d), nil
	case time.Duration:
		if x < 0 || x%time.Millisecond != 0 || x/time.Millisecond > math.MaxUint32 {
			return 0, nil, fmt.Errorf("duration %v is not a whole number of milliseconds from 0 to %d (a DWORD of milliseconds)", x, uint32(math.MaxUint32))
		}
		return syntaxDword, binary.LittleEndian.AppendUint32(nil, uint32(x/time.Millisecond)), nil
	case []byte:
		return syntaxBinary, slices.Clone(x), nil
	}
	return 0, nil, fmt.Errorf("value of Go type %T has no property kind", v)
}

// EncodeFormatList writes the formats of the schema's properties as a
// property list: for each, its name and a CLUSPROP_SYNTAX_LIST_VALUE_WORD
// holding its CLUSPROP_FORMAT_* (see [Format]); the answer to
// CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTY_FMTS.
func EncodeFormatList(schema *properties.Schema) []byte {
	var w listWriter
	props := schema.Properties()
	w.dword(uint32(len(props)))
	for _, p := range props {
		w.entry(syntaxName, utf16z(p.Name))
		w.entry(syntaxWord, binary.LittleEndian.AppendUint16(nil, Format(p.Kind)))
		w.dword(syntaxEndmark)
	}
	return w.b
}

// encodeNames writes names as a MULTI_SZ: each NUL-terminated, then one more
// NUL; the answer to CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES.
func encodeNames(names []string) []byte {
	var b []byte
	for _, n := range names {
		b = append(b, utf16z(n)...)
	}
	return append(b, 0, 0)
}

// listReader reads a property list, tracking the offset for error messages.
type listReader struct {
	b   []byte
	off int
}

func (r *listReader) malformed(format string, args ...any) error {
	return fmt.Errorf("%w: at byte %d: %s", ErrMalformed, r.off, fmt.Sprintf(format, args...))
}

func (r *listReader) dword() (uint32, error) {
	if len(r.b)-r.off < 4 {
		return 0, r.malformed("%d bytes left where a DWORD was expected", len(r.b)-r.off)
	}
	v := binary.LittleEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v, nil
}

// data reads an entry's cbLength and its data with the padding after it.
func (r *listReader) data() ([]byte, error) {
	n, err := r.dword()
	if err != nil {
		return nil, err
	}
	if uint64(n) > uint64(len(r.b)-r.off) {
		return nil, r.malformed("cbLength %d is beyond the %d bytes left", n, len(r.b)-r.off)
	}
	d := r.b[r.off : r.off+int(n)]
	r.off += min(align(int(n)), len(r.b)-r.off)
	return d, nil
}

// DecodePropertyList reads a Windows property list, as
// CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES and
// CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES carry it, into values of the
// kinds the schema declares. It accepts every format a Windows client may
// reasonably send for a kind (a DWORD, a LONG or a LARGE_INTEGER for an
// Int64; SZ, EXPAND_SZ or EXPANDED_SZ for a String), with range checks;
// a name the schema does not declare is read in its format's natural kind,
// for the validation to report. Of a property's values the first is taken
// (a list may carry more entries before its end mark).
//
// A list that breaks the wire format is an error wrapping [ErrMalformed],
// and nothing else is read. Values that cannot be read as their property's
// kind, and a name given twice (names match without regard to case), are
// reported all at once, each a *properties.PropertyError wrapping
// properties.ErrInvalid; the values that did decode are returned with them.
func DecodePropertyList(schema *properties.Schema, data []byte) (properties.Values, error) {
	r := &listReader{b: data}
	var vals properties.Values
	count, err := r.dword()
	if err != nil {
		return vals, err
	}
	if uint64(count) > uint64(len(data)/16) { // a property takes at least 16 bytes
		return vals, r.malformed("%d properties cannot fit in %d bytes", count, len(data))
	}
	var problems []error
	seen := map[string]string{}
	for range count {
		syntax, err := r.dword()
		if err != nil {
			return vals, err
		}
		if syntax != syntaxName {
			return vals, r.malformed("syntax %#08x where a CLUSPROP_SYNTAX_NAME was expected", syntax)
		}
		raw, err := r.data()
		if err != nil {
			return vals, err
		}
		name, err := decodeText(raw)
		if err != nil {
			return vals, r.malformed("property name: %v", err)
		}
		// The values, up to the end mark; the first is the property's.
		var vsyntax uint32
		var vdata []byte
		for i := 0; ; i++ {
			s, err := r.dword()
			if err != nil {
				return vals, err
			}
			if s == syntaxEndmark {
				break
			}
			if i >= maxPropertyListValues {
				return vals, r.malformed("property %q: more than %d values without an end mark", name, maxPropertyListValues)
			}
			d, err := r.data()
			if err != nil {
				return vals, err
			}
			if i == 0 {
				vsyntax, vdata = s, d
			}
		}
		if vsyntax == 0 {
			problems = append(problems, &properties.PropertyError{Name: name, Problem: "has no value", Allowed: "one LIST_VALUE entry before the end mark"})
			continue
		}
		key := strings.ToLower(name)
		if first, dup := seen[key]; dup {
			problems = append(problems, &properties.PropertyError{Name: name, Problem: fmt.Sprintf("is given twice (also as %q)", first), Allowed: "each property once"})
			continue
		}
		seen[key] = name
		kind := properties.KindInvalid
		if p, ok := schema.Lookup(name); ok {
			kind, name = p.Kind, p.Name
		}
		v, err := decodeValue(kind, vsyntax, vdata)
		if err != nil {
			problems = append(problems, &properties.PropertyError{Name: name, Problem: err.Error(), Allowed: allowedFormats(kind)})
			continue
		}
		if err := vals.Set(name, v); err != nil {
			problems = append(problems, &properties.PropertyError{Name: name, Problem: err.Error()})
		}
	}
	if err := errors.Join(problems...); err != nil {
		return vals, fmt.Errorf("wsfc: decoding a property list: %w", err)
	}
	return vals, nil
}

// decodeText reads NUL-terminated UTF-16LE text with no NUL inside.
func decodeText(b []byte) (string, error) {
	if len(b) < 2 || len(b)%2 != 0 {
		return "", fmt.Errorf("text of %d bytes is not NUL-terminated UTF-16", len(b))
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	if u[len(u)-1] != 0 {
		return "", errors.New("text is not NUL-terminated")
	}
	u = u[:len(u)-1]
	if slices.Contains(u, 0) {
		return "", errors.New("text holds a NUL before its end")
	}
	return utf16Text(u)
}

// utf16Text decodes u, refusing unpaired surrogates.
func utf16Text(u []uint16) (string, error) {
	for i := 0; i < len(u); i++ {
		switch c := u[i]; {
		case c >= 0xD800 && c < 0xDC00:
			if i+1 == len(u) || u[i+1] < 0xDC00 || u[i+1] >= 0xE000 {
				return "", fmt.Errorf("text is not valid UTF-16 (an unpaired surrogate at character %d)", i)
			}
			i++
		case c >= 0xDC00 && c < 0xE000:
			return "", fmt.Errorf("text is not valid UTF-16 (an unpaired surrogate at character %d)", i)
		}
	}
	return string(utf16.Decode(u)), nil
}

// decodeMulti reads a MULTI_SZ: strings, each NUL-terminated, ending with an
// empty one; an empty or single-NUL buffer is an empty list.
func decodeMulti(b []byte) ([]string, error) {
	if len(b)%2 != 0 {
		return nil, fmt.Errorf("MULTI_SZ of %d bytes is not UTF-16", len(b))
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	out := []string{}
	for len(u) > 0 {
		i := slices.Index(u, 0)
		if i < 0 {
			return nil, errors.New("MULTI_SZ is not NUL-terminated")
		}
		if i == 0 {
			return out, nil
		}
		s, err := utf16Text(u[:i])
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		u = u[i+1:]
	}
	return out, nil // the final NUL is missing; Windows' readers take the list as it is
}

// number reads an integer format as a signed or unsigned 64-bit value.
func number(syntax uint32, b []byte) (u uint64, s int64, signed bool, err error) {
	need := map[uint32]int{syntaxDword: 4, syntaxLong: 4, syntaxLargeInteger: 8, syntaxUlargeInteger: 8}[syntax]
	if len(b) != need {
		return 0, 0, false, fmt.Errorf("%s of %d bytes (want %d)", syntaxString(syntax), len(b), need)
	}
	switch syntax {
	case syntaxDword:
		v := binary.LittleEndian.Uint32(b)
		return uint64(v), int64(v), false, nil
	case syntaxLong:
		v := int32(binary.LittleEndian.Uint32(b))
		return uint64(v), int64(v), true, nil
	case syntaxLargeInteger:
		v := int64(binary.LittleEndian.Uint64(b))
		return uint64(v), v, true, nil
	default:
		v := binary.LittleEndian.Uint64(b)
		return v, int64(v), false, nil
	}
}

func isNumber(syntax uint32) bool {
	switch syntax {
	case syntaxDword, syntaxLong, syntaxLargeInteger, syntaxUlargeInteger:
		return true
	}
	return false
}

func isText(syntax uint32) bool {
	return syntax == syntaxSz || syntax == syntaxExpandSz || syntax == syntaxExpandedSz
}

// decodeValue reads one value as kind; KindInvalid means the natural kind
// of its format (for a name the schema does not declare).
func decodeValue(kind properties.Kind, syntax uint32, b []byte) (any, error) {
	if kind == properties.KindInvalid {
		switch {
		case isText(syntax):
			kind = properties.String
		case syntax == syntaxMultiSz:
			kind = properties.MultiString
		case syntax == syntaxDword:
			kind = properties.Uint32
		case syntax == syntaxLong, syntax == syntaxLargeInteger:
			kind = properties.Int64
		case syntax == syntaxUlargeInteger:
			kind = properties.Uint64
		case syntax == syntaxBinary:
			kind = properties.Binary
		default:
			return nil, fmt.Errorf("has the unsupported syntax %#08x", syntax)
		}
	}
	wrong := fmt.Errorf("is a %s", syntaxString(syntax))
	switch kind {
	case properties.String:
		if !isText(syntax) {
			return nil, wrong
		}
		return decodeText(b)
	case properties.MultiString:
		if syntax == syntaxMultiSz {
			return decodeMulti(b)
		}
		if isText(syntax) {
			s, err := decodeText(b)
			return []string{s}, err
		}
		return nil, wrong
	case properties.Binary:
		if syntax != syntaxBinary {
			return nil, wrong
		}
		return slices.Clone(b), nil
	}
	if !isNumber(syntax) {
		return nil, wrong
	}
	u, s, signed, err := number(syntax, b)
	if err != nil {
		return nil, err
	}
	negative := signed && s < 0
	switch kind {
	case properties.Int64:
		if !signed && u > math.MaxInt64 {
			return nil, fmt.Errorf("%d is beyond an int64", u)
		}
		return s, nil
	case properties.Uint32:
		if negative || u > math.MaxUint32 {
			return nil, fmt.Errorf("%d is out of a uint32's range", s)
		}
		return uint32(u), nil
	case properties.Uint64:
		if negative {
			return nil, fmt.Errorf("%d is negative", s)
		}
		return u, nil
	case properties.Bool:
		if negative || u > 1 {
			return nil, fmt.Errorf("%d is not 0 or 1", s)
		}
		return u == 1, nil
	case properties.Duration:
		if negative || u > math.MaxUint32 {
			return nil, fmt.Errorf("%d ms is out of range", s)
		}
		return time.Duration(u) * time.Millisecond, nil
	}
	return nil, fmt.Errorf("has kind %v, which has no wire format", kind)
}

// allowedFormats says which formats a kind accepts, for error messages.
func allowedFormats(k properties.Kind) string {
	switch k {
	case properties.String:
		return "SZ, EXPAND_SZ or EXPANDED_SZ"
	case properties.MultiString:
		return "MULTI_SZ, or SZ for one string"
	case properties.Int64:
		return "LARGE_INTEGER, LONG, DWORD or ULARGE_INTEGER up to 2^63-1"
	case properties.Uint32:
		return "DWORD, or LONG, LARGE_INTEGER, ULARGE_INTEGER from 0 to 2^32-1"
	case properties.Uint64:
		return "ULARGE_INTEGER, or DWORD, LONG, LARGE_INTEGER not negative"
	case properties.Bool:
		return "DWORD 0 or 1"
	case properties.Duration:
		return "DWORD of milliseconds (0 to 2^32-1)"
	case properties.Binary:
		return "BINARY"
	}
	return ""
}

// syntaxString names a CLUSPROP syntax for error messages.
func syntaxString(s uint32) string {
	names := map[uint32]string{
		syntaxBinary: "BINARY", syntaxDword: "DWORD", syntaxSz: "SZ", syntaxExpandSz: "EXPAND_SZ",
		syntaxMultiSz: "MULTI_SZ", syntaxUlargeInteger: "ULARGE_INTEGER", syntaxLong: "LONG",
		syntaxExpandedSz: "EXPANDED_SZ", syntaxLargeInteger: "LARGE_INTEGER", syntaxWord: "WORD",
	}
	if n, ok := names[s]; ok {
		return n
	}
	return fmt.Sprintf("syntax %#08x", s)
}
