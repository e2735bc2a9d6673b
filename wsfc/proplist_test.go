package wsfc

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/resdll/resdll/properties"
)

// allSchema declares one property of each kind.
var allSchema = properties.MustSchema(
	properties.Property{Name: "S", Kind: properties.String},
	properties.Property{Name: "M", Kind: properties.MultiString},
	properties.Property{Name: "I", Kind: properties.Int64},
	properties.Property{Name: "U32", Kind: properties.Uint32},
	properties.Property{Name: "U64", Kind: properties.Uint64},
	properties.Property{Name: "B", Kind: properties.Bool},
	properties.Property{Name: "D", Kind: properties.Duration},
	properties.Property{Name: "Bin", Kind: properties.Binary},
)

// The wire format, byte for byte: a count, then per property a NAME entry,
// a LIST_VALUE entry and an end mark, each entry's data padded to 4 bytes.
func TestEncodePropertyListBytes(t *testing.T) {
	schema := properties.MustSchema(
		properties.Property{Name: "Port", Kind: properties.Uint32},
		properties.Property{Name: "Ab", Kind: properties.String},
	)
	b, err := EncodePropertyList(schema, mustValues(t, map[string]any{"Ab": "x", "Port": uint32(0x1F90)}))
	if err != nil {
		t.Fatal(err)
	}
	want := "02000000" + // two properties
		"03000400" + "0a000000" + "50006f00720074000000" + "0000" + // NAME, 10 bytes "Port\0", padding
		"02000100" + "04000000" + "901f0000" + // LIST_VALUE_DWORD, 4 bytes, 8080
		"00000000" + // ENDMARK
		"03000400" + "06000000" + "410062000000" + "0000" + // NAME "Ab\0", padding
		"03000100" + "04000000" + "78000000" + // LIST_VALUE_SZ "x\0"
		"00000000"
	if got := hex.EncodeToString(b); got != want {
		t.Errorf("encoded\n%s\nwant\n%s", got, want)
	}
	if len(b)%4 != 0 {
		t.Errorf("length %d is not a multiple of 4", len(b))
	}
}

// Every kind goes round the wire; formats are those Format names.
func TestPropertyListRoundTrip(t *testing.T) {
	vals := mustValues(t, map[string]any{
		"S": "héllo 🌍", "M": []string{"a", "bc", "ü"}, "I": int64(-42), "U32": uint32(math.MaxUint32),
		"U64": uint64(math.MaxUint64), "B": true, "D": 1500 * time.Millisecond, "Bin": []byte{0, 1, 2, 3, 4},
	})
	b, err := EncodePropertyList(allSchema, vals)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodePropertyList(allSchema, b)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(vals) {
		t.Errorf("round trip: %v, want %v", got, vals)
	}
	empty := mustValues(t, map[string]any{"M": []string{}, "S": "", "Bin": []byte{}})
	b, _ = EncodePropertyList(allSchema, empty)
	if got, err := DecodePropertyList(allSchema, b); err != nil || !got.Equal(empty) {
		t.Errorf("empty values: %v, %v", got, err)
	}
	// Without a schema, each format decodes as its natural kind.
	natural := mustValues(t, map[string]any{"S": "s", "M": []string{"m"}, "I": int64(-1), "U32": uint32(1), "U64": uint64(2), "Bin": []byte{1}})
	b, _ = EncodePropertyList(nil, natural)
	if got, err := DecodePropertyList(nil, b); err != nil || !got.Equal(natural) {
		t.Errorf("without a schema: %v, %v; want %v", got, err, natural)
	}
}

func TestFormat(t *testing.T) {
	for k, want := range map[properties.Kind]uint16{properties.String: 3, properties.MultiString: 5, properties.Int64: 10,
		properties.Uint32: 2, properties.Uint64: 6, properties.Bool: 2, properties.Duration: 2, properties.Binary: 1, properties.KindInvalid: 0} {
		if got := Format(k); got != want {
			t.Errorf("Format(%v) = %d, want %d", k, got, want)
		}
	}
}

// Values the wire cannot carry are refused, naming the property.
func TestEncodeRefuses(t *testing.T) {
	for name, v := range map[string]any{
		"D":  -time.Second,
		"D2": time.Millisecond + 1,
		"D3": time.Duration(math.MaxUint32+1) * time.Millisecond,
		"M":  []string{"a", "", "b"},
	} {
		_, err := EncodePropertyList(nil, mustValues(t, map[string]any{name: v}))
		var pe *properties.PropertyError
		if !errors.As(err, &pe) || pe.Name != name {
			t.Errorf("%s = %v: %v, want a PropertyError naming it", name, v, err)
		}
	}
}

// wire builds a property list by hand: each item is a name and its value
// entries (syntax, data).
type entry2 struct {
	syntax uint32
	data   []byte
}

func wire(count uint32, props ...any) []byte {
	var w listWriter
	w.dword(count)
	for i := 0; i < len(props); i += 2 {
		w.entry(syntaxName, utf16z(props[i].(string)))
		for _, e := range props[i+1].([]entry2) {
			w.entry(e.syntax, e.data)
		}
		w.dword(syntaxEndmark)
	}
	return w.b
}

func dw(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func qw(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// Clients choose their formats: the decoder takes every reasonable one for
// a kind, with range checks, and the first of several values.
func TestDecodeLenient(t *testing.T) {
	b := wire(7,
		"I", []entry2{{syntaxLong, dw(uint32(0xFFFFFFFE))}}, // LONG -2
		"U64", []entry2{{syntaxDword, dw(7)}}, // DWORD for a uint64
		"U32", []entry2{{syntaxUlargeInteger, qw(12)}}, // ULARGE within range
		"S", []entry2{{syntaxExpandSz, utf16z("%TEMP%")}}, // EXPAND_SZ
		"M", []entry2{{syntaxSz, utf16z("one")}}, // SZ for a multi-string
		"D", []entry2{{syntaxDword, dw(250)}, {syntaxDword, dw(9)}}, // the first of two values
		"b", []entry2{{syntaxDword, dw(1)}}, // the name in another case
	)
	got, err := DecodePropertyList(allSchema, b)
	if err != nil {
		t.Fatal(err)
	}
	want := mustValues(t, map[string]any{"I": int64(-2), "U64": uint64(7), "U32": uint32(12), "S": "%TEMP%",
		"M": []string{"one"}, "D": 250 * time.Millisecond, "B": true})
	if !got.Equal(want) {
		t.Errorf("decoded %v, want %v", got, want)
	}
}

// Values that cannot be read as their kind are reported all at once, each
// naming its property; the others are decoded.
func TestDecodeProblems(t *testing.T) {
	b := wire(8,
		"U32", []entry2{{syntaxLong, dw(uint32(0xFFFFFFFF))}}, // -1
		"B", []entry2{{syntaxDword, dw(2)}},
		"S", []entry2{{syntaxDword, dw(1)}},
		"D", []entry2{{syntaxLargeInteger, qw(math.MaxUint32 + 1)}},
		"I", []entry2{{syntaxUlargeInteger, qw(math.MaxUint64)}},
		"Bin", []entry2{{syntaxSz, utf16z("x")}},
		"u32", []entry2{{syntaxDword, dw(5)}}, // a second U32
		"Extra", []entry2{{syntaxDword, dw(5)}},
	)
	got, err := DecodePropertyList(allSchema, b)
	var names []string
	for _, e := range flatten(err) {
		var pe *properties.PropertyError
		if errors.As(e, &pe) {
			names = append(names, pe.Name)
		}
		if !errors.Is(e, properties.ErrInvalid) {
			t.Errorf("%v does not wrap ErrInvalid", e)
		}
	}
	if strings.Join(names, ",") != "U32,B,S,D,I,Bin,u32" {
		t.Errorf("problems for %q, want U32,B,S,D,I,Bin,u32 (each once, in order)", names)
	}
	if v, _ := got.GetUint32("Extra"); v != 5 {
		t.Errorf("an undeclared name was not read in its natural kind: %v", got)
	}
	if Code(err) != ErrorInvalidParameter {
		t.Errorf("Code = %v, want ERROR_INVALID_PARAMETER", Code(err))
	}
}

func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	if u := errors.Unwrap(err); u != nil {
		if _, ok := u.(interface{ Unwrap() []error }); ok {
			return flatten(u)
		}
	}
	return []error{err}
}

// A list that breaks the wire format is ErrMalformed (ERROR_INVALID_DATA),
// whatever is wrong with it.
func TestDecodeMalformed(t *testing.T) {
	good := wire(1, "S", []entry2{{syntaxSz, utf16z("v")}})
	nameless := wire(0)
	nameless = append(nameless[:0], dw(1)...)
	nameless = append(nameless, dw(syntaxSz)...)
	for name, b := range map[string][]byte{
		"empty":                   {},
		"a short count":           {1, 0},
		"a count beyond the data": append(dw(1000), make([]byte, 64)...),
		"truncated":               good[:len(good)-5],
		"no end mark":             good[:len(good)-4],
		"a value where a name is": append(nameless, make([]byte, 24)...),
		"a name not NUL-ended":    wireRaw(syntaxName, []byte{'A', 0, 'B', 0}),
		"a name of odd length":    wireRaw(syntaxName, []byte{'A', 0, 0}),
		"a NUL inside a name":     wireRaw(syntaxName, []byte{'A', 0, 0, 0, 'B', 0, 0, 0}),
		"an unpaired surrogate":   wireRaw(syntaxName, []byte{0x00, 0xD8, 'A', 0, 0, 0}),
		"a length beyond":         append(dw(1), append(dw(syntaxName), dw(0xFFFFFFF0)...)...),
	} {
		_, err := DecodePropertyList(allSchema, b)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
		if Code(err) != ErrorInvalidData {
			t.Errorf("%s: Code = %v, want ERROR_INVALID_DATA", name, Code(err))
		}
	}
}

// wireRaw is a one-property list whose name entry carries data as it is,
// padded to 4 bytes, with a DWORD value and an end mark, and room to spare.
func wireRaw(syntax uint32, data []byte) []byte {
	var w listWriter
	w.dword(1)
	w.entry(syntax, data)
	w.entry(syntaxDword, dw(1))
	w.dword(syntaxEndmark)
	return append(w.b, make([]byte, 16)...)
}

func TestMultiSz(t *testing.T) {
	enc := func(s ...string) []byte {
		var b []byte
		for _, x := range s {
			for _, c := range utf16.Encode([]rune(x)) {
				b = binary.LittleEndian.AppendUint16(b, c)
			}
			b = append(b, 0, 0)
		}
		return b
	}
	for _, c := range []struct {
		name string
		in   []byte
		want string
		ok   bool
	}{
		{"two strings", enc("a", "b", ""), "a|b", true},
		{"empty", nil, "", true},
		{"one NUL", enc(""), "", true},
		{"no final NUL", enc("a"), "a", true},
		{"odd length", []byte{'a', 0, 0}, "", false},
		{"unterminated", []byte{'a', 0}, "", false},
	} {
		got, err := decodeMulti(c.in)
		if (err == nil) != c.ok || (c.ok && strings.Join(got, "|") != c.want) {
			t.Errorf("%s: %q, %v", c.name, got, err)
		}
	}
}

// FuzzDecodePropertyList: any input is decoded or refused without a panic,
// and what decodes encodes and decodes again to the same values.
func FuzzDecodePropertyList(f *testing.F) {
	good, _ := EncodePropertyList(allSchema, mustValuesF(map[string]any{"S": "x", "M": []string{"a"}, "I": int64(-1),
		"U32": uint32(1), "U64": uint64(2), "B": false, "D": time.Second, "Bin": []byte{9}}))
	f.Add(good)
	f.Add([]byte{})
	f.Add(wire(1, "X", []entry2{{syntaxLong, dw(5)}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		vals, err := DecodePropertyList(allSchema, b)
		if err != nil {
			return
		}
		again, err := EncodePropertyList(allSchema, vals)
		if err != nil {
			return // a value the wire cannot carry back (an empty string in a MULTI_SZ cannot decode, so this is rare)
		}
		back, err := DecodePropertyList(allSchema, again)
		if err != nil || !back.Equal(vals) {
			t.Fatalf("re-encoded values decode to %v, %v; want %v", back, err, vals)
		}
	})
}

func mustValuesF(m map[string]any) properties.Values {
	v, err := properties.NewValues(m)
	if err != nil {
		panic(err)
	}
	return v
}
