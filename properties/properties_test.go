package properties_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/resdll/resdll/properties"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// R50. Each kind is named as the schema and error messages spell it; an
// out-of-range kind prints as Kind(n) and is not valid.
func TestKindStringAndValid(t *testing.T) {
	tests := []struct {
		kind  properties.Kind
		name  string
		valid bool
	}{
		{properties.KindInvalid, "invalid", false},
		{properties.String, "string", true},
		{properties.MultiString, "multi-string", true},
		{properties.Int64, "int64", true},
		{properties.Uint32, "uint32", true},
		{properties.Uint64, "uint64", true},
		{properties.Bool, "bool", true},
		{properties.Duration, "duration", true},
		{properties.Binary, "binary", true},
		{properties.Binary + 1, "Kind(9)", false},
		{properties.Kind(200), "Kind(200)", false},
		{properties.Kind(255), "Kind(255)", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.name, tt.kind.String())
			assert.Equal(t, tt.valid, tt.kind.Valid())
		})
	}
}

// R50. KindOf maps each kind's Go type to its kind; time.Duration is
// Duration, not Int64; Go types of no kind are refused.
func TestKindOf(t *testing.T) {
	type myString string
	tests := []struct {
		name string
		v    any
		want properties.Kind
		ok   bool
	}{
		{"string", "x", properties.String, true},
		{"empty string", "", properties.String, true},
		{"[]string", []string{"a", "b"}, properties.MultiString, true},
		{"nil []string", []string(nil), properties.MultiString, true},
		{"int64", int64(-1), properties.Int64, true},
		{"uint32", uint32(1), properties.Uint32, true},
		{"uint64", uint64(1), properties.Uint64, true},
		{"bool", true, properties.Bool, true},
		{"time.Duration", time.Second, properties.Duration, true},
		{"[]byte", []byte{1, 2}, properties.Binary, true},
		{"nil []byte", []byte(nil), properties.Binary, true},
		// Refused: no guessing of a kind.
		{"int", 1, properties.KindInvalid, false},
		{"int32", int32(1), properties.KindInvalid, false},
		{"uint", uint(1), properties.KindInvalid, false},
		{"float64", 1.5, properties.KindInvalid, false},
		{"float32", float32(1.5), properties.KindInvalid, false},
		{"nil", nil, properties.KindInvalid, false},
		{"named string", myString("x"), properties.KindInvalid, false},
		{"[]int", []int{1}, properties.KindInvalid, false},
		{"[]any", []any{"x"}, properties.KindInvalid, false},
		{"map", map[string]string{}, properties.KindInvalid, false},
		{"*string", new(string), properties.KindInvalid, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := properties.KindOf(tt.v)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

// goodSchema declares one property of each of the eight kinds (R50).
func goodProps() []properties.Property {
	return []properties.Property{
		{Name: "VirtualServer", Kind: properties.String, Default: "EXCH1", Allowed: []any{"EXCH1", "EXCH2"},
			Description: "virtual server", Help: "The name of the virtual server.", Required: true, Unique: true},
		{Name: "Protocols", Kind: properties.MultiString, Default: []string{"smtp", "imap"}},
		{Name: "Instance", Kind: properties.Int64, Default: int64(1), Min: int64(-5), Max: int64(5)},
		{Name: "Port", Kind: properties.Uint32, Default: uint32(25), Min: uint32(1), Max: uint32(65535), Unique: true},
		{Name: "MaxMessage", Kind: properties.Uint64, Allowed: []any{uint64(1 << 20), uint64(1 << 30)}},
		{Name: "Verbose", Kind: properties.Bool, Default: false, Reloadable: true},
		{Name: "Timeout", Kind: properties.Duration, Default: 30 * time.Second, Min: time.Second, Max: time.Hour, Reloadable: true},
		{Name: "Certificate", Kind: properties.Binary, Default: []byte{0xde, 0xad}, ReadOnly: true},
	}
}

// R50. A good schema with every kind, bounds, allowed values and flags.
func TestNewSchemaAcceptsAllKinds(t *testing.T) {
	s, err := properties.NewSchema(goodProps()...)
	require.NoError(t, err)
	require.NotNil(t, s)
	assert.Equal(t, 8, s.Len())

	got := s.Properties()
	require.Len(t, got, 8)
	for i, p := range goodProps() {
		assert.Equal(t, p, got[i], "declaration order and content kept for %s", p.Name)
	}
}

// R50. Edge cases that are fine: no properties, a name of exactly
// MaxNameLength bytes, inner spaces, bounds equal, a default on a bound.
func TestNewSchemaAcceptsEdges(t *testing.T) {
	tests := []struct {
		name  string
		props []properties.Property
	}{
		{"no properties", nil},
		{"name of MaxNameLength bytes", []properties.Property{{Name: strings.Repeat("a", properties.MaxNameLength), Kind: properties.String}}},
		{"one-byte name", []properties.Property{{Name: "a", Kind: properties.String}}},
		{"inner space", []properties.Property{{Name: "Virtual Server", Kind: properties.String}}},
		{"non-ASCII printable", []properties.Property{{Name: "Größe", Kind: properties.Uint32}}},
		{"Min equals Max", []properties.Property{{Name: "P", Kind: properties.Int64, Min: int64(3), Max: int64(3), Default: int64(3)}}},
		{"Default at Min", []properties.Property{{Name: "P", Kind: properties.Uint64, Min: uint64(2), Default: uint64(2)}}},
		{"Default at Max", []properties.Property{{Name: "P", Kind: properties.Duration, Max: time.Minute, Default: time.Minute}}},
		{"only Min", []properties.Property{{Name: "P", Kind: properties.Int64, Min: int64(0)}}},
		{"only Max", []properties.Property{{Name: "P", Kind: properties.Uint32, Max: uint32(9)}}},
		{"Allowed without Default", []properties.Property{{Name: "P", Kind: properties.Duration, Allowed: []any{time.Second}}}},
		{"empty Allowed on bool", []properties.Property{{Name: "P", Kind: properties.Bool, Allowed: []any{}}}},
		{"nil slice default", []properties.Property{{Name: "P", Kind: properties.MultiString, Default: []string(nil)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := properties.NewSchema(tt.props...)
			require.NoError(t, err)
			assert.Equal(t, len(tt.props), s.Len())
		})
	}
}

// R52, R59. Each bad declaration is refused with an error wrapping
// ErrInvalid, a *PropertyError, whose text names the property and the
// problem. Nothing panics.
func TestNewSchemaRefuses(t *testing.T) {
	long := strings.Repeat("x", properties.MaxNameLength+1)
	tests := []struct {
		name  string
		props []properties.Property
		// want are substrings the error text must contain: the property
		// and the problem.
		want []string
	}{
		{ // R59
			name:  "empty name",
			props: []properties.Property{{Name: "", Kind: properties.String}},
			want:  []string{`property ""`, "empty"},
		},
		{ // R59
			name:  "name too long",
			props: []properties.Property{{Name: long, Kind: properties.String}},
			want:  []string{long[:32], "129 bytes long", "1 to 128"},
		},
		{ // R59
			name:  "leading space",
			props: []properties.Property{{Name: " Port", Kind: properties.Uint32}},
			want:  []string{`" Port"`, "leading or trailing spaces"},
		},
		{ // R59
			name:  "trailing space",
			props: []properties.Property{{Name: "Port ", Kind: properties.Uint32}},
			want:  []string{`"Port "`, "leading or trailing spaces"},
		},
		{ // R59
			name:  "unprintable control character",
			props: []properties.Property{{Name: "Po\x00rt", Kind: properties.Uint32}},
			want:  []string{"Po", "rt", "unprintable"},
		},
		{ // R59
			name:  "unprintable escape",
			props: []properties.Property{{Name: "Port\x1b[0m", Kind: properties.Uint32}},
			want:  []string{"Port", "unprintable"},
		},
		{ // R59
			name:  "invalid UTF-8",
			props: []properties.Property{{Name: "Port\xff", Kind: properties.Uint32}},
			want:  []string{"Port", "unprintable"},
		},
		{ // R50
			name: "duplicate name",
			props: []properties.Property{
				{Name: "Port", Kind: properties.Uint32},
				{Name: "Port", Kind: properties.Uint32},
			},
			want: []string{`"Port"`, "declared twice"},
		},
		{ // R50: names compare without regard to case.
			name: "duplicate name differing in case",
			props: []properties.Property{
				{Name: "Port", Kind: properties.Uint32},
				{Name: "PORT", Kind: properties.Uint32},
			},
			want: []string{`"PORT"`, "declared twice", `"Port"`},
		},
		{ // R50
			name:  "zero kind",
			props: []properties.Property{{Name: "Port"}},
			want:  []string{`"Port"`, "kind invalid is not a property kind"},
		},
		{ // R50
			name:  "out-of-range kind",
			props: []properties.Property{{Name: "Port", Kind: properties.Kind(42)}},
			want:  []string{`"Port"`, "Kind(42)"},
		},
		{ // R50
			name:  "default of wrong kind",
			props: []properties.Property{{Name: "Port", Kind: properties.Uint32, Default: int64(25)}},
			want:  []string{`"Port"`, "Default", "int64", "uint32"},
		},
		{ // R50: an untyped constant is an int, of no kind.
			name:  "default of no kind",
			props: []properties.Property{{Name: "Port", Kind: properties.Uint32, Default: 25}},
			want:  []string{`"Port"`, "Default", "Go type int"},
		},
		{ // R50
			name:  "Min on a bool",
			props: []properties.Property{{Name: "Verbose", Kind: properties.Bool, Min: false}},
			want:  []string{`"Verbose"`, "Min is set on a bool property"},
		},
		{ // R50
			name:  "Max on a string",
			props: []properties.Property{{Name: "Name", Kind: properties.String, Max: "z"}},
			want:  []string{`"Name"`, "Max is set on a string property"},
		},
		{ // R50
			name:  "Min of wrong kind",
			props: []properties.Property{{Name: "Port", Kind: properties.Uint32, Min: uint64(1)}},
			want:  []string{`"Port"`, "Min", "uint64"},
		},
		{ // R50
			name:  "Min above Max",
			props: []properties.Property{{Name: "Port", Kind: properties.Uint32, Min: uint32(10), Max: uint32(5)}},
			want:  []string{`"Port"`, "Min 10 is above Max 5"},
		},
		{ // R50
			name:  "Default below Min",
			props: []properties.Property{{Name: "Timeout", Kind: properties.Duration, Min: time.Second, Max: time.Minute, Default: time.Millisecond}},
			want:  []string{`"Timeout"`, "Default 1ms is out of range", "1s to 1m0s"},
		},
		{ // R50
			name:  "Default above Max",
			props: []properties.Property{{Name: "Instance", Kind: properties.Int64, Max: int64(5), Default: int64(6)}},
			want:  []string{`"Instance"`, "Default 6 is out of range", "5 or less"},
		},
		{ // R50
			name:  "Default below Min only",
			props: []properties.Property{{Name: "Size", Kind: properties.Uint64, Min: uint64(5), Default: uint64(4)}},
			want:  []string{`"Size"`, "out of range", "5 or more"},
		},
		{ // R50
			name:  "Default not in Allowed",
			props: []properties.Property{{Name: "Mode", Kind: properties.String, Allowed: []any{"fast", "safe"}, Default: "slow"}},
			want:  []string{`"Mode"`, "Default slow is not an allowed value", "one of fast, safe"},
		},
		{ // R50
			name:  "Allowed element of wrong kind",
			props: []properties.Property{{Name: "Port", Kind: properties.Uint32, Allowed: []any{uint32(25), 587}}},
			want:  []string{`"Port"`, "Allowed[1]", "Go type int"},
		},
		{ // R50
			name:  "Allowed on a bool",
			props: []properties.Property{{Name: "Verbose", Kind: properties.Bool, Allowed: []any{true}}},
			want:  []string{`"Verbose"`, "Allowed is set on a bool property"},
		},
		{ // R50
			name:  "Allowed on binary",
			props: []properties.Property{{Name: "Cert", Kind: properties.Binary, Allowed: []any{[]byte{1}}}},
			want:  []string{`"Cert"`, "Allowed is set on a binary property"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				s   *properties.Schema
				err error
			)
			require.NotPanics(t, func() { s, err = properties.NewSchema(tt.props...) })
			require.Error(t, err)
			assert.Nil(t, s)
			assert.ErrorIs(t, err, properties.ErrInvalid) // R52
			var pe *properties.PropertyError
			require.ErrorAs(t, err, &pe)
			assert.NotEmpty(t, pe.Problem)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// R52. Every problem is reported at once, each naming its property.
func TestNewSchemaReportsEveryProblem(t *testing.T) {
	props := []properties.Property{
		{Name: "Good", Kind: properties.String},
		{Name: "NoKind"},
		{Name: "BadDefault", Kind: properties.Uint32, Default: "25"},
		{Name: "Inverted", Kind: properties.Int64, Min: int64(9), Max: int64(1)},
		{Name: "BoolRange", Kind: properties.Bool, Max: true},
		{Name: "good", Kind: properties.String}, // duplicate of Good
		{Name: " Spaced", Kind: properties.String},
	}
	s, err := properties.NewSchema(props...)
	require.Error(t, err)
	assert.Nil(t, s)
	assert.ErrorIs(t, err, properties.ErrInvalid)

	var pe *properties.PropertyError
	require.ErrorAs(t, err, &pe)

	joined, ok := err.(interface{ Unwrap() []error })
	require.True(t, ok, "several problems are joined with errors.Join")
	names := map[string]bool{}
	for _, e := range joined.Unwrap() {
		var pe *properties.PropertyError
		require.ErrorAs(t, e, &pe)
		assert.ErrorIs(t, e, properties.ErrInvalid)
		names[pe.Name] = true
	}
	for _, n := range []string{"NoKind", "BadDefault", "Inverted", "BoolRange", "good", " Spaced"} {
		assert.True(t, names[n], "a PropertyError names %q", n)
		assert.Contains(t, err.Error(), `"`+n+`"`)
	}
	assert.False(t, names["Good"], "the good property is not reported")
	assert.Len(t, joined.Unwrap(), 6)
}

// R52. Several problems with one property are all reported.
func TestNewSchemaReportsEveryProblemOfOneProperty(t *testing.T) {
	_, err := properties.NewSchema(properties.Property{
		Name:    " Port",
		Kind:    properties.Uint32,
		Min:     int64(1),
		Max:     "x",
		Allowed: []any{1.5},
		Default: true,
	})
	require.Error(t, err)
	for _, w := range []string{"leading or trailing spaces", "Min:", "Max:", "Allowed[0]", "Default:"} {
		assert.Contains(t, err.Error(), w)
	}
}

// R59. A too-long name is reported by a prefix; the error text stays
// short.
func TestNewSchemaLongNameIsShortened(t *testing.T) {
	name := strings.Repeat("n", 10*properties.MaxNameLength)
	_, err := properties.NewSchema(properties.Property{Name: name, Kind: properties.String})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), name)
	assert.Less(t, len(err.Error()), 300)
}

// PropertyError formats with and without the allowed text and wraps
// ErrInvalid (R52).
func TestPropertyError(t *testing.T) {
	tests := []struct {
		err  properties.PropertyError
		want string
	}{
		{properties.PropertyError{Name: "Port", Problem: "value 0 is out of range", Allowed: "1 to 65535"},
			`property "Port": value 0 is out of range (allowed: 1 to 65535)`},
		{properties.PropertyError{Name: "Port", Problem: "unknown"},
			`property "Port": unknown`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.err.Error())
			assert.ErrorIs(t, &tt.err, properties.ErrInvalid)
			assert.NotErrorIs(t, &tt.err, properties.ErrNotSet)
		})
	}
}

// MustSchema returns a good schema and panics on a bad one, by design.
func TestMustSchema(t *testing.T) {
	var s *properties.Schema
	require.NotPanics(t, func() { s = properties.MustSchema(goodProps()...) })
	assert.Equal(t, 8, s.Len())

	func() {
		defer func() {
			r := recover()
			require.NotNil(t, r, "MustSchema panics on a bad schema")
			err, ok := r.(error)
			require.True(t, ok, "the panic value is the error, got %T", r)
			assert.ErrorIs(t, err, properties.ErrInvalid)
			assert.Contains(t, err.Error(), `"Port"`)
		}()
		properties.MustSchema(properties.Property{Name: "Port"})
		t.Error("MustSchema returned")
	}()
}

// R50. Lookup finds a declaration by name; a miss is (zero, false).
func TestSchemaLookup(t *testing.T) {
	s := properties.MustSchema(goodProps()...)
	tests := []struct {
		name string
		ok   bool
		kind properties.Kind
	}{
		{"Port", true, properties.Uint32},
		{"Timeout", true, properties.Duration},
		{"Certificate", true, properties.Binary},
		{"Missing", false, properties.KindInvalid},
		{"", false, properties.KindInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, ok := s.Lookup(tt.name)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.kind, p.Kind)
			if ok {
				assert.Equal(t, tt.name, p.Name)
			} else {
				assert.Equal(t, properties.Property{}, p)
			}
		})
	}
}

// A nil *Schema is an empty schema.
func TestNilSchema(t *testing.T) {
	var s *properties.Schema
	require.NotPanics(t, func() {
		assert.Equal(t, 0, s.Len())
		assert.Empty(t, s.Properties())
		p, ok := s.Lookup("Port")
		assert.False(t, ok)
		assert.Equal(t, properties.Property{}, p)
		d := s.Defaults()
		assert.Equal(t, 0, d.Len())
		assert.Empty(t, d.Names())
	})
}

// Properties and Lookup return copies: changing a returned Default slice or
// Allowed list does not change the schema. NewSchema copies its input too.
func TestSchemaReturnsCopies(t *testing.T) {
	in := goodProps()
	s, err := properties.NewSchema(in...)
	require.NoError(t, err)

	// Mutate the caller's declarations after NewSchema.
	in[0].Allowed[0] = "HACKED"
	in[1].Default.([]string)[0] = "HACKED"
	in[7].Default.([]byte)[0] = 0

	// Mutate what Properties returns.
	ps := s.Properties()
	ps[0].Allowed[0] = "HACKED"
	ps[0].Name = "HACKED"
	ps[1].Default.([]string)[0] = "HACKED"
	ps[7].Default.([]byte)[0] = 0
	ps[4].Allowed[1] = uint64(7)

	// Mutate what Lookup returns.
	p, ok := s.Lookup("Protocols")
	require.True(t, ok)
	p.Default.([]string)[1] = "HACKED"
	p, ok = s.Lookup("VirtualServer")
	require.True(t, ok)
	p.Allowed[1] = "HACKED"

	assert.Equal(t, goodProps(), s.Properties())
	for _, want := range goodProps() {
		got, ok := s.Lookup(want.Name)
		require.True(t, ok)
		assert.Equal(t, want, got)
	}
}

// Defaults holds only the properties that declare a default, as copies.
func TestSchemaDefaults(t *testing.T) {
	s := properties.MustSchema(goodProps()...)
	d := s.Defaults()
	assert.Equal(t, []string{"Certificate", "Instance", "Port", "Protocols", "Timeout", "Verbose", "VirtualServer"}, d.Names())
	assert.False(t, d.Has("MaxMessage"), "no default declared")

	port, err := d.GetUint32("Port")
	require.NoError(t, err)
	assert.Equal(t, uint32(25), port)
	verbose, err := d.GetBool("Verbose")
	require.NoError(t, err)
	assert.False(t, verbose, "a false default is still a default")

	// Changing the defaults changes neither the schema nor later Defaults.
	require.NoError(t, d.Set("Port", uint32(1)))
	protos, err := d.GetMultiString("Protocols")
	require.NoError(t, err)
	protos[0] = "HACKED"
	assert.True(t, s.Defaults().Equal(properties.MustSchema(goodProps()...).Defaults()))
	p, _ := s.Lookup("Port")
	assert.Equal(t, uint32(25), p.Default)

	empty := properties.MustSchema(properties.Property{Name: "P", Kind: properties.String})
	assert.Equal(t, 0, empty.Defaults().Len())
}

// A Schema is immutable: concurrent readers need no lock.
func TestSchemaConcurrentReads(t *testing.T) {
	s := properties.MustSchema(goodProps()...)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				_, _ = s.Lookup("Protocols")
				ps := s.Properties()
				ps[1].Default.([]string)[0] = "HACKED"
				d := s.Defaults()
				_ = d.Set("Port", uint32(1))
			}
		})
	}
	wg.Wait()
	assert.Equal(t, goodProps(), s.Properties())
}

// The zero Values is empty and usable.
func TestValuesZero(t *testing.T) {
	var v properties.Values
	require.NotPanics(t, func() {
		assert.Equal(t, 0, v.Len())
		assert.Empty(t, v.Names())
		assert.False(t, v.Has("Port"))
		x, ok := v.Get("Port")
		assert.False(t, ok)
		assert.Nil(t, x)
		v.Delete("Port")
		assert.True(t, v.Equal(properties.Values{}))
		assert.Equal(t, 0, v.Clone().Len())
		assert.Equal(t, 0, v.Merge(properties.Values{}).Len())
		_, err := v.GetString("Port")
		assert.ErrorIs(t, err, properties.ErrNotSet)
	})
	require.NoError(t, v.Set("Port", uint32(25)))
	assert.Equal(t, 1, v.Len())
	assert.True(t, v.Has("Port"))
}

// R52, R59. Set refuses a value of no kind, with an error naming the
// property; the refused value is not stored.
func TestValuesSetRefuses(t *testing.T) {
	tests := []struct {
		name string
		v    any
		goT  string
	}{
		{"int", 25, "int"},
		{"float64", 2.5, "float64"},
		{"nil", nil, "<nil>"},
		{"int32", int32(1), "int32"},
		{"[]int", []int{1}, "[]int"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v properties.Values
			require.NoError(t, v.Set("Port", uint32(1)))
			err := v.Set("Port", tt.v)
			require.Error(t, err)
			assert.ErrorIs(t, err, properties.ErrInvalid)
			var pe *properties.PropertyError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "Port", pe.Name)
			assert.Contains(t, err.Error(), `"Port"`)
			assert.Contains(t, err.Error(), "Go type "+tt.goT)
			got, err := v.GetUint32("Port")
			require.NoError(t, err)
			assert.Equal(t, uint32(1), got, "the old value stands")
		})
	}
}

// allKinds is one value of each kind, by property name.
func allKinds() map[string]any {
	return map[string]any{
		"S":  "EXCH1",
		"MS": []string{"smtp", "imap"},
		"I":  int64(-7),
		"U3": uint32(25),
		"U6": uint64(1 << 40),
		"B":  true,
		"D":  90 * time.Second,
		"Bn": []byte{0xca, 0xfe},
	}
}

// accessor calls one typed getter and returns its result as any.
type accessor struct {
	kind properties.Kind
	get  func(properties.Values, string) (any, error)
}

func accessors() []accessor {
	return []accessor{
		{properties.String, func(v properties.Values, n string) (any, error) { return v.GetString(n) }},
		{properties.MultiString, func(v properties.Values, n string) (any, error) { return v.GetMultiString(n) }},
		{properties.Int64, func(v properties.Values, n string) (any, error) { return v.GetInt64(n) }},
		{properties.Uint32, func(v properties.Values, n string) (any, error) { return v.GetUint32(n) }},
		{properties.Uint64, func(v properties.Values, n string) (any, error) { return v.GetUint64(n) }},
		{properties.Bool, func(v properties.Values, n string) (any, error) { return v.GetBool(n) }},
		{properties.Duration, func(v properties.Values, n string) (any, error) { return v.GetDuration(n) }},
		{properties.Binary, func(v properties.Values, n string) (any, error) { return v.GetBinary(n) }},
	}
}

// zeroOf is the Go zero value each accessor returns with an error.
var zeroOf = map[properties.Kind]any{
	properties.String:      "",
	properties.MultiString: []string(nil),
	properties.Int64:       int64(0),
	properties.Uint32:      uint32(0),
	properties.Uint64:      uint64(0),
	properties.Bool:        false,
	properties.Duration:    time.Duration(0),
	properties.Binary:      []byte(nil),
}

// R52. Every typed accessor returns its kind's value; a missing name wraps
// ErrNotSet; a value of another kind wraps ErrInvalid; none panics.
func TestValuesTypedAccessors(t *testing.T) {
	vals, err := properties.NewValues(allKinds())
	require.NoError(t, err)
	for _, a := range accessors() {
		t.Run(a.kind.String(), func(t *testing.T) {
			for name, want := range allKinds() {
				k, _ := properties.KindOf(want)
				var (
					got any
					err error
				)
				require.NotPanics(t, func() { got, err = a.get(vals, name) })
				if k == a.kind {
					require.NoError(t, err, name)
					assert.Equal(t, want, got, name)
					continue
				}
				// Wrong kind.
				require.Error(t, err, name)
				assert.ErrorIs(t, err, properties.ErrInvalid, name)
				assert.NotErrorIs(t, err, properties.ErrNotSet, name)
				var pe *properties.PropertyError
				require.ErrorAs(t, err, &pe, name)
				assert.Equal(t, name, pe.Name)
				assert.Contains(t, err.Error(), a.kind.String())
				assert.Contains(t, err.Error(), k.String())
				assert.Equal(t, zeroOf[a.kind], got, name)
			}

			// Missing name.
			var got any
			var err error
			require.NotPanics(t, func() { got, err = a.get(vals, "Missing") })
			require.Error(t, err)
			assert.ErrorIs(t, err, properties.ErrNotSet)
			assert.NotErrorIs(t, err, properties.ErrInvalid)
			assert.Contains(t, err.Error(), `"Missing"`)
			assert.Equal(t, zeroOf[a.kind], got)

			// Zero Values.
			require.NotPanics(t, func() { _, err = a.get(properties.Values{}, "S") })
			assert.ErrorIs(t, err, properties.ErrNotSet)
		})
	}
}

// Get returns the stored value of any kind.
func TestValuesGet(t *testing.T) {
	vals, err := properties.NewValues(allKinds())
	require.NoError(t, err)
	for name, want := range allKinds() {
		got, ok := vals.Get(name)
		assert.True(t, ok, name)
		assert.Equal(t, want, got, name)
	}
	got, ok := vals.Get("Missing")
	assert.False(t, ok)
	assert.Nil(t, got)
}

// Values never aliases a caller's slice: Set copies in, Get and the typed
// accessors copy out.
func TestValuesCopySlices(t *testing.T) {
	var v properties.Values
	ms := []string{"smtp", "imap"}
	bin := []byte{1, 2, 3}
	require.NoError(t, v.Set("MS", ms))
	require.NoError(t, v.Set("Bn", bin))

	// Mutate the caller's slices after Set.
	ms[0] = "HACKED"
	bin[0] = 0xff

	// Mutate the returned slices.
	gotMS, err := v.GetMultiString("MS")
	require.NoError(t, err)
	gotMS[1] = "HACKED"
	gotBin, err := v.GetBinary("Bn")
	require.NoError(t, err)
	gotBin[1] = 0xff
	x, _ := v.Get("MS")
	x.([]string)[0] = "HACKED"
	y, _ := v.Get("Bn")
	y.([]byte)[2] = 0xff

	gotMS, err = v.GetMultiString("MS")
	require.NoError(t, err)
	assert.Equal(t, []string{"smtp", "imap"}, gotMS)
	gotBin, err = v.GetBinary("Bn")
	require.NoError(t, err)
	assert.Equal(t, []byte{1, 2, 3}, gotBin)

	// NewValues copies too.
	ms2 := []string{"a"}
	nv, err := properties.NewValues(map[string]any{"MS": ms2})
	require.NoError(t, err)
	ms2[0] = "HACKED"
	got, err := nv.GetMultiString("MS")
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, got)
}

// Empty and nil slices are values too.
func TestValuesEmptySlices(t *testing.T) {
	var v properties.Values
	require.NoError(t, v.Set("MS", []string(nil)))
	require.NoError(t, v.Set("Bn", []byte{}))
	assert.True(t, v.Has("MS"))
	ms, err := v.GetMultiString("MS")
	require.NoError(t, err)
	assert.Empty(t, ms)
	bin, err := v.GetBinary("Bn")
	require.NoError(t, err)
	assert.Empty(t, bin)
}

// Clone shares no memory with its source.
func TestValuesClone(t *testing.T) {
	v, err := properties.NewValues(allKinds())
	require.NoError(t, err)
	c := v.Clone()
	assert.True(t, c.Equal(v))

	require.NoError(t, c.Set("S", "other"))
	c.Delete("B")
	require.NoError(t, c.Set("New", "x"))
	ms, _ := c.GetMultiString("MS")
	ms[0] = "HACKED"

	want, err := properties.NewValues(allKinds())
	require.NoError(t, err)
	assert.True(t, v.Equal(want), "the source is unchanged")
	assert.False(t, c.Equal(v))
}

// Merge sets over's values on top of a copy; neither input changes.
func TestValuesMerge(t *testing.T) {
	base, err := properties.NewValues(map[string]any{"Port": uint32(25), "Name": "a", "MS": []string{"x"}})
	require.NoError(t, err)
	over, err := properties.NewValues(map[string]any{"Port": uint32(587), "Verbose": true})
	require.NoError(t, err)
	m := base.Merge(over)

	want, err := properties.NewValues(map[string]any{"Port": uint32(587), "Name": "a", "MS": []string{"x"}, "Verbose": true})
	require.NoError(t, err)
	assert.True(t, m.Equal(want))

	// The result shares nothing with its inputs.
	require.NoError(t, m.Set("Name", "b"))
	port, _ := base.GetUint32("Port")
	assert.Equal(t, uint32(25), port)
	name, _ := base.GetString("Name")
	assert.Equal(t, "a", name)
	assert.Equal(t, 2, over.Len())
	assert.False(t, base.Has("Verbose"))

	// A kind may change on merge: the value is replaced, not converted.
	over2, err := properties.NewValues(map[string]any{"Port": "smtp"})
	require.NoError(t, err)
	s, err := base.Merge(over2).GetString("Port")
	require.NoError(t, err)
	assert.Equal(t, "smtp", s)

	assert.True(t, base.Merge(properties.Values{}).Equal(base))
	assert.True(t, properties.Values{}.Merge(base).Equal(base))
}

// Equal compares names and values, kinds included.
func TestValuesEqual(t *testing.T) {
	mk := func(m map[string]any) properties.Values {
		t.Helper()
		v, err := properties.NewValues(m)
		require.NoError(t, err)
		return v
	}
	tests := []struct {
		name string
		a, b map[string]any
		want bool
	}{
		{"both empty", nil, map[string]any{}, true},
		{"same", allKinds(), allKinds(), true},
		{"missing name", map[string]any{"A": "x"}, map[string]any{}, false},
		{"other name", map[string]any{"A": "x"}, map[string]any{"B": "x"}, false},
		{"other value", map[string]any{"A": "x"}, map[string]any{"A": "y"}, false},
		{"other kind, same number", map[string]any{"A": int64(1)}, map[string]any{"A": uint64(1)}, false},
		{"int64 vs duration", map[string]any{"A": int64(1)}, map[string]any{"A": time.Duration(1)}, false},
		{"string vs []byte", map[string]any{"A": "ab"}, map[string]any{"A": []byte("ab")}, false},
		{"[]string vs []byte", map[string]any{"A": []string{"a"}}, map[string]any{"A": []byte("a")}, false},
		{"multi-string differs", map[string]any{"A": []string{"a", "b"}}, map[string]any{"A": []string{"b", "a"}}, false},
		{"multi-string length", map[string]any{"A": []string{"a"}}, map[string]any{"A": []string{"a", ""}}, false},
		{"binary differs", map[string]any{"A": []byte{1}}, map[string]any{"A": []byte{2}}, false},
		{"binary same", map[string]any{"A": []byte{1}}, map[string]any{"A": []byte{1}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := mk(tt.a), mk(tt.b)
			require.NotPanics(t, func() {
				assert.Equal(t, tt.want, a.Equal(b))
				assert.Equal(t, tt.want, b.Equal(a), "Equal is symmetric")
			})
		})
	}
}

// Names is sorted; Delete, Has and Len agree.
func TestValuesNamesDeleteHasLen(t *testing.T) {
	var v properties.Values
	for _, n := range []string{"zeta", "Alpha", "beta", "alpha", "Zeta"} {
		require.NoError(t, v.Set(n, n))
	}
	assert.Equal(t, []string{"Alpha", "Zeta", "alpha", "beta", "zeta"}, v.Names())
	assert.Equal(t, 5, v.Len())

	// Setting again replaces.
	require.NoError(t, v.Set("beta", int64(2)))
	assert.Equal(t, 5, v.Len())
	b, err := v.GetInt64("beta")
	require.NoError(t, err)
	assert.Equal(t, int64(2), b)

	v.Delete("beta")
	v.Delete("beta")    // twice is a no-op
	v.Delete("missing") // not set: a no-op
	assert.False(t, v.Has("beta"))
	assert.True(t, v.Has("alpha"))
	assert.Equal(t, 4, v.Len())
	assert.Equal(t, []string{"Alpha", "Zeta", "alpha", "zeta"}, v.Names())
	_, err = v.GetInt64("beta")
	assert.ErrorIs(t, err, properties.ErrNotSet)

	// The returned names are the caller's.
	names := v.Names()
	names[0] = "HACKED"
	assert.Equal(t, []string{"Alpha", "Zeta", "alpha", "zeta"}, v.Names())
}

// R52, R59. NewValues refuses a value of no kind, naming the property, and
// returns empty Values.
func TestNewValues(t *testing.T) {
	v, err := properties.NewValues(nil)
	require.NoError(t, err)
	assert.Equal(t, 0, v.Len())

	tests := []struct {
		name    string
		m       map[string]any
		badName string
	}{
		{"int", map[string]any{"Port": 25, "Name": "x"}, "Port"},
		{"float", map[string]any{"Ratio": 0.5}, "Ratio"},
		{"nil", map[string]any{"Nothing": nil}, "Nothing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := properties.NewValues(tt.m)
			require.Error(t, err)
			assert.ErrorIs(t, err, properties.ErrInvalid)
			var pe *properties.PropertyError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tt.badName, pe.Name)
			assert.Contains(t, err.Error(), `"`+tt.badName+`"`)
			assert.Equal(t, 0, v.Len())
		})
	}
}

// The sentinels are distinct and prefixed with the package name.
func TestSentinels(t *testing.T) {
	sentinels := []error{properties.ErrUnsupported, properties.ErrInvalid, properties.ErrNotSet, properties.ErrCorrupt, properties.ErrStored, properties.ErrOutOfSync, properties.ErrClosed}
	for i, a := range sentinels {
		assert.True(t, strings.HasPrefix(a.Error(), "properties: "), a.Error())
		for j, b := range sentinels {
			assert.Equal(t, i == j, errors.Is(a, b), "%v vs %v", a, b)
		}
	}
}

// R59: a long name is shortened in messages on a character boundary, and an
// unprintable name is quoted once.
func TestNameMessages(t *testing.T) {
	_, err := properties.NewSchema(properties.Property{Name: "a" + strings.Repeat("é", 64), Kind: properties.String})
	var pe *properties.PropertyError
	require.True(t, errors.As(err, &pe))
	assert.True(t, utf8.ValidString(pe.Name), "shortened name %q is not UTF-8", pe.Name)

	_, err = properties.NewSchema(properties.Property{Name: "Po\x00rt", Kind: properties.String})
	require.True(t, errors.As(err, &pe))
	assert.Equal(t, "Po\x00rt", pe.Name)
	assert.Contains(t, err.Error(), `property "Po\x00rt": the name has unprintable characters`)
}

// R50: names match without regard to case, as the cluster database's do.
func TestSchemaLookupIgnoresCase(t *testing.T) {
	s := properties.MustSchema(properties.Property{Name: "Port", Kind: properties.Uint32})
	p, ok := s.Lookup("PORT")
	require.True(t, ok)
	assert.Equal(t, "Port", p.Name)
}

// NewValues reports every bad value at once.
func TestNewValuesReportsEvery(t *testing.T) {
	_, err := properties.NewValues(map[string]any{"A": 1, "B": 2.0})
	require.ErrorIs(t, err, properties.ErrInvalid)
	assert.ErrorContains(t, err, `"A"`)
	assert.ErrorContains(t, err, `"B"`)
}
