package properties_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/properties/storetest"
)

// R56: a stored value record is self-checking: every record round-trips,
// and every single damaged byte and every truncation of it is reported as
// ErrCorrupt, never read as another value, never a panic.
func TestRecordDetectsDamage(t *testing.T) {
	all := storetest.AllKinds()
	for _, name := range all.Names() {
		v, _ := all.Get(name)
		rec, err := properties.MarshalValue(v)
		require.NoError(t, err)
		back, err := properties.UnmarshalValue(rec)
		require.NoError(t, err)
		assert.Equal(t, v, back, name)

		for i := range rec {
			for _, mask := range []byte{0x01, 0x80, 0xff} {
				bad := append([]byte(nil), rec...)
				bad[i] ^= mask
				var got any
				require.NotPanics(t, func() { got, err = properties.UnmarshalValue(bad) })
				require.ErrorIs(t, err, properties.ErrCorrupt, "%s: byte %d ^ %#x read as %v", name, i, mask, got)
			}
		}
		for n := range len(rec) {
			_, err := properties.UnmarshalValue(rec[:n])
			require.ErrorIs(t, err, properties.ErrCorrupt, "%s truncated to %d bytes", name, n)
		}
	}
}

// R59: a value of no kind or over MaxValueSize is refused on the way into
// a store.
func TestRecordRefusesBadValues(t *testing.T) {
	_, err := properties.MarshalValue(3)
	require.ErrorIs(t, err, properties.ErrInvalid)
	_, err = properties.MarshalValue(strings.Repeat("x", properties.MaxValueSize+1))
	require.ErrorIs(t, err, properties.ErrInvalid)
	_, err = properties.MarshalValue(make([]string, properties.MaxValueSize+1))
	require.ErrorIs(t, err, properties.ErrInvalid, "a multi-string counts one byte per string")
	_, err = properties.MarshalValue(strings.Repeat("x", properties.MaxValueSize))
	require.NoError(t, err)
}

// R59: sizes are bounded per property (MaxSize) and by MaxValueSize; text
// must be UTF-8 without NUL.
func TestValueBounds(t *testing.T) {
	s := properties.MustSchema(
		properties.Property{Name: "Small", Kind: properties.String, MaxSize: 4},
		properties.Property{Name: "List", Kind: properties.MultiString, MaxSize: 4},
		properties.Property{Name: "Blob", Kind: properties.Binary},
		properties.Property{Name: "Text", Kind: properties.String},
	)
	ok := vals(t, map[string]any{"Small": "abcd", "List": []string{"a", "b"}, "Blob": make([]byte, properties.MaxValueSize), "Text": "é"})
	require.NoError(t, s.ValidateUpdate(ok))

	bad := vals(t, map[string]any{"Small": "abcde", "List": []string{"ab", "c"}, "Blob": make([]byte, properties.MaxValueSize+1), "Text": "a\x00b"})
	err := s.ValidateUpdate(bad)
	require.ErrorIs(t, err, properties.ErrInvalid)
	got := problems(err)
	assert.Contains(t, got["Small"].Error(), "5 bytes (allowed: at most 4 bytes)")
	assert.Contains(t, got["List"].Error(), "5 bytes")
	assert.Contains(t, got["Blob"].Error(), "at most 65536 bytes")
	assert.Contains(t, got["Text"].Error(), "NUL")

	err = s.ValidateUpdate(vals(t, map[string]any{"Text": "\xff", "List": []string{"\xfe"}}))
	got = problems(err)
	assert.Contains(t, got["Text"].Error(), "not valid UTF-8")
	assert.Contains(t, got["List"].Error(), "string 0 is not valid UTF-8")
}

// R50, R52: the new declaration fields are checked by NewSchema.
func TestNewSchemaChecksMaxSizeAndValidate(t *testing.T) {
	_, err := properties.NewSchema(
		properties.Property{Name: "A", Kind: properties.Uint32, MaxSize: 4},
		properties.Property{Name: "B", Kind: properties.String, MaxSize: -1},
		properties.Property{Name: "C", Kind: properties.String, MaxSize: properties.MaxValueSize + 1},
		properties.Property{Name: "D", Kind: properties.String, MaxSize: 2, Default: "abc"},
		properties.Property{Name: "E", Kind: properties.Duration, Default: time.Second,
			Validate: func(any) error { panic("validator bug") }},
		properties.Property{Name: "F", Kind: properties.String, Default: "a\x00"},
	)
	require.ErrorIs(t, err, properties.ErrInvalid)
	got := problems(err)
	assert.Contains(t, got["A"].Error(), "MaxSize is set on a uint32 property")
	assert.Contains(t, got["B"].Error(), "MaxSize -1 is out of range")
	assert.Contains(t, got["C"].Error(), "MaxSize 65537 is out of range")
	assert.Contains(t, got["D"].Error(), "Default is 3 bytes")
	assert.Contains(t, got["E"].Error(), "validator panicked: validator bug")
	assert.Contains(t, got["F"].Error(), "NUL")
}

// R52: a validator's plain error becomes the problem; the property is
// named by the package, whatever the validator says.
func TestValidatorErrors(t *testing.T) {
	s := properties.MustSchema(properties.Property{Name: "P", Kind: properties.Int64, Validate: func(v any) error {
		if v.(int64)%2 != 0 {
			return &properties.PropertyError{Name: "wrong", Problem: "odd", Allowed: "even numbers"}
		}
		if v.(int64) == 4 {
			return assert.AnError
		}
		return nil
	}})
	require.NoError(t, s.ValidateUpdate(vals(t, map[string]any{"P": int64(2)})))
	err := s.ValidateUpdate(vals(t, map[string]any{"P": int64(3)}))
	assert.EqualError(t, err, `property "P": odd (allowed: even numbers)`)
	err = s.ValidateUpdate(vals(t, map[string]any{"P": int64(4)}))
	assert.ErrorContains(t, err, `property "P": value was refused: `+assert.AnError.Error())
}

// ValidateValues checks a complete set: read-only values are allowed,
// required ones must be there.
func TestValidateValues(t *testing.T) {
	s := testSchema()
	require.NoError(t, s.ValidateValues(vals(t, map[string]any{"VirtualServer": "S", "Certificate": []byte{1}})))
	err := s.ValidateValues(vals(t, map[string]any{"Certificate": []byte{1}}))
	assert.Contains(t, problems(err)["VirtualServer"].Error(), "required")
}

// R59: namespaces are bounded.
func TestNamespaceCheck(t *testing.T) {
	require.NoError(t, properties.Parameters.Check())
	require.NoError(t, properties.Common.Sync().Check())
	for _, ns := range []properties.Namespace{"", " x", properties.Namespace(strings.Repeat("n", 65)), "a\nb"} {
		require.ErrorIs(t, ns.Check(), properties.ErrInvalid, "%q", ns)
	}
}
