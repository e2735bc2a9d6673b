package properties_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/properties/storetest"
)

// R50: the typed JSON form keeps every kind exact: an int64 near 2^63, a
// uint64 above 2^63, the extreme durations and binary data survive a round
// trip, and no value changes kind.
func TestTypedJSONRoundTrip(t *testing.T) {
	in := storetest.AllKinds()
	data, err := json.Marshal(in)
	require.NoError(t, err)
	var out properties.Values
	require.NoError(t, json.Unmarshal(data, &out))
	assert.True(t, in.Equal(out), "round trip changed the values:\n%s", data)
	for _, name := range in.Names() {
		a, _ := in.Get(name)
		b, _ := out.Get(name)
		ka, _ := properties.KindOf(a)
		kb, _ := properties.KindOf(b)
		assert.Equal(t, ka, kb, name)
	}
	assert.Contains(t, string(data), `"Int64Max":{"int64":9223372036854775806}`)
	assert.Contains(t, string(data), `"Uint64":{"uint64":9223372036854788153}`)
	assert.Contains(t, string(data), `"DurationMin":{"duration":"-2562047h47m16.854775808s"}`)
	assert.Contains(t, string(data), `"Binary":{"binary":"AAEC/wA="}`)
}

// R50: a property test over every kind and the whole range of each.
func TestTypedJSONRoundTripRapid(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var v properties.Values
		n := rapid.IntRange(0, 8).Draw(t, "n")
		for range n {
			name := rapid.StringMatching(`[A-Za-z][A-Za-z0-9 ._-]{0,20}[A-Za-z0-9]`).Draw(t, "name")
			var x any
			switch rapid.IntRange(0, 7).Draw(t, "kind") {
			case 0:
				x = rapid.String().Draw(t, "s")
			case 1:
				x = rapid.SliceOf(rapid.String()).Draw(t, "ms")
			case 2:
				x = rapid.Int64().Draw(t, "i")
			case 3:
				x = rapid.Uint32().Draw(t, "u32")
			case 4:
				x = rapid.Uint64().Draw(t, "u64")
			case 5:
				x = rapid.Bool().Draw(t, "b")
			case 6:
				x = time.Duration(rapid.Int64().Draw(t, "d"))
			case 7:
				x = rapid.SliceOf(rapid.Byte()).Draw(t, "bin")
			}
			if err := v.Set(name, x); err != nil {
				t.Fatal(err)
			}
		}
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		var out properties.Values
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatalf("unmarshal %s: %v", data, err)
		}
		if !out.Equal(v) {
			t.Fatalf("round trip of %s changed the values", data)
		}
	})
}

// R50: the plain form, read through the schema, keeps kinds exact too.
func TestPlainJSONRoundTrip(t *testing.T) {
	s := properties.MustSchema(
		properties.Property{Name: "I", Kind: properties.Int64},
		properties.Property{Name: "U", Kind: properties.Uint64},
		properties.Property{Name: "U32", Kind: properties.Uint32},
		properties.Property{Name: "D", Kind: properties.Duration},
		properties.Property{Name: "B", Kind: properties.Binary},
		properties.Property{Name: "MS", Kind: properties.MultiString},
		properties.Property{Name: "S", Kind: properties.String},
		properties.Property{Name: "F", Kind: properties.Bool},
	)
	in := vals(t, map[string]any{
		"I": int64(math.MaxInt64), "U": uint64(math.MaxUint64), "U32": uint32(7), "D": time.Duration(math.MinInt64),
		"B": []byte{0, 0xff}, "MS": []string{"a", "<&>"}, "S": "x\ny", "F": false,
	})
	data, err := s.EncodeJSON(in)
	require.NoError(t, err)
	assert.Equal(t, `{"I":9223372036854775807,"U":18446744073709551615,"U32":7,"D":"-2562047h47m16.854775808s","B":"AP8=","MS":["a","<&>"],"S":"x\ny","F":false}`, string(data))
	out, err := s.DecodeJSON(data)
	require.NoError(t, err)
	assert.True(t, in.Equal(out))

	// 64-bit integers also as strings of digits, for readers that parse
	// numbers as float64.
	out, err = s.DecodeJSON([]byte(`{"i":"-9223372036854775808","u":"18446744073709551615"}`))
	require.NoError(t, err)
	i, _ := out.GetInt64("I")
	u, _ := out.GetUint64("U")
	assert.Equal(t, int64(math.MinInt64), i)
	assert.Equal(t, uint64(math.MaxUint64), u)
	assert.Equal(t, []string{"I", "U"}, out.Names(), "names come back as declared")
}

// R52, R59: plain JSON that cannot be read as its property's kind is
// refused with the property, what was wrong and what is allowed; every
// problem at once.
func TestDecodeJSONRefuses(t *testing.T) {
	s := testSchema()
	tests := []struct {
		name string
		json string
		prop string
		want []string
	}{
		{"string as number", `{"VirtualServer":5}`, "VirtualServer", []string{"a number, not a string", "a JSON string"}},
		{"uint32 too big", `{"Port":4294967296}`, "Port", []string{"out of range for uint32", "0 to 4294967295"}},
		{"uint32 negative", `{"Port":-1}`, "Port", []string{"out of range for uint32"}},
		{"uint32 fraction", `{"Port":25.5}`, "Port", []string{"not a whole number"}},
		{"uint32 exponent", `{"Port":2e1}`, "Port", []string{"not a whole number"}},
		{"int64 overflow", `{"Instance":9223372036854775808}`, "Instance", []string{"out of range for int64"}},
		{"uint64 bool", `{"MaxMessage":true}`, "MaxMessage", []string{"a boolean, not a whole number"}},
		{"uint64 bad string", `{"MaxMessage":"12x"}`, "MaxMessage", []string{"not a whole number"}},
		{"bool as string", `{"Verbose":"true"}`, "Verbose", []string{"a string, not true or false", "true or false"}},
		{"duration as number", `{"Timeout":30}`, "Timeout", []string{"a number, not a duration string", `"30s"`}},
		{"duration bad", `{"Timeout":"30 parsecs"}`, "Timeout", []string{"not a duration"}},
		{"binary bad", `{"Certificate":"!!"}`, "Certificate", []string{"not valid base64", "base64 text"}},
		{"binary non-canonical", `{"Certificate":"AB=="}`, "Certificate", []string{"not valid base64"}},
		{"multi-string item", `{"Protocols":["smtp",3]}`, "Protocols", []string{"item 1 is a number, not a string"}},
		{"multi-string object", `{"Protocols":{"a":"b"}}`, "Protocols", []string{"an object, not an array of strings"}},
		{"null", `{"Mode":null}`, "Mode", []string{"null, not a string"}},
		{"unknown", `{"Nope":1}`, "Nope", []string{"unknown property", "one of VirtualServer"}},
		{"twice", `{"Port":1,"port":2}`, "port", []string{"given twice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.DecodeJSON([]byte(tt.json))
			require.ErrorIs(t, err, properties.ErrInvalid)
			pe := problems(err)[tt.prop]
			require.NotNil(t, pe, "no problem for %q in %v", tt.prop, err)
			for _, w := range tt.want {
				assert.Contains(t, pe.Error(), w)
			}
		})
	}

	// Every problem at once, and the members that did decode come back.
	got, err := s.DecodeJSON([]byte(`{"Port":"x","Verbose":1,"Mode":"active","Nope":2}`))
	require.ErrorIs(t, err, properties.ErrInvalid)
	assert.Len(t, problems(err), 3)
	assert.Equal(t, []string{"Mode"}, got.Names())
}

// R59: input that is not one bounded JSON object is refused whole, with
// what is allowed.
func TestDecodeJSONStructure(t *testing.T) {
	s := testSchema()
	for _, in := range []string{``, `[]`, `"x"`, `1`, `null`, `{`, `{"Port":}`, `{"Port":1}{}`, `{"Port":1} x`, `{"Port":1,}`} {
		_, err := s.DecodeJSON([]byte(in))
		require.ErrorIs(t, err, properties.ErrInvalid, in)
		assert.Contains(t, err.Error(), "allowed: a JSON object", in)
	}
	big := `{"VirtualServer":"` + strings.Repeat("x", properties.MaxInputSize) + `"}`
	_, err := s.DecodeJSON([]byte(big))
	require.ErrorIs(t, err, properties.ErrInvalid)
	assert.Contains(t, err.Error(), "at most 1048576 bytes")

	var v properties.Values
	require.ErrorIs(t, json.Unmarshal([]byte(big), &v), properties.ErrInvalid)
}

// R59: the typed form is checked too, and a refused input leaves the
// Values unchanged.
func TestTypedJSONRefuses(t *testing.T) {
	for _, in := range []string{
		`{"A":1}`, `{"A":{}}`, `{"A":{"int64":1,"uint64":2}}`, `{"A":{"float":1}}`, `{"A":{"uint32":-1}}`,
		`{"A":{"string":"x"},"A":{"string":"y"}}`, `{"":{"string":"x"}}`, `{"A":{"duration":5}}`,
	} {
		v := vals(t, map[string]any{"Keep": "me"})
		err := json.Unmarshal([]byte(in), &v)
		require.ErrorIs(t, err, properties.ErrInvalid, in)
		assert.Equal(t, []string{"Keep"}, v.Names(), in)
	}
	// Text JSON cannot carry exactly is refused on the way out, not mangled.
	_, err := json.Marshal(vals(t, map[string]any{"A": "\xff"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "UTF-8")
}

// R59: after MaxProblems problems, one more error says how many were left
// out.
func TestProblemsAreCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range properties.MaxProblems + 50 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"Unknown` + strings.Repeat("x", i%7) + string(rune('A'+i%26)) + `_` + strings.Repeat("y", i/26) + `":1`)
	}
	b.WriteString("}")
	_, err := testSchema().DecodeJSON([]byte(b.String()))
	require.ErrorIs(t, err, properties.ErrInvalid)
	assert.Contains(t, err.Error(), "50 more problems not listed")
}
