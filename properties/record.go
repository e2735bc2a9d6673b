package properties

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"time"
)

// recordVersion is the first byte of every record MarshalValue writes.
const recordVersion = 1

// crcTable is the CRC-32C table records are checked with (crc32 builds
// it once).
func crcTable() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) }

// MarshalValue encodes one value as a self-checking record for a [Store]:
// a format version, the kind, the value, and a CRC-32C of all that, so a
// damaged record is found when it is read (R56) rather than read as a wrong
// value. It refuses a value of no kind and one larger than [MaxValueSize]
// (R59); errors wrap [ErrInvalid]. Store implementations may use it; the
// bbolt store does.
func MarshalValue(v any) ([]byte, error) {
	k, ok := KindOf(v)
	if !ok {
		return nil, fmt.Errorf("%w: value of Go type %T is of no property kind", ErrInvalid, v)
	}
	if n := valueSize(v); n > MaxValueSize {
		return nil, fmt.Errorf("%w: value is %d bytes (allowed: at most %d)", ErrInvalid, n, MaxValueSize)
	}
	b := []byte{recordVersion, byte(k)}
	switch x := v.(type) {
	case string:
		b = append(b, x...)
	case []string:
		b = binary.AppendUvarint(b, uint64(len(x)))
		for _, s := range x {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
	case int64:
		b = binary.BigEndian.AppendUint64(b, uint64(x))
	case uint32:
		b = binary.BigEndian.AppendUint32(b, x)
	case uint64:
		b = binary.BigEndian.AppendUint64(b, x)
	case bool:
		if x {
			b = append(b, 1)
		} else {
			b = append(b, 0)
		}
	case time.Duration:
		b = binary.BigEndian.AppendUint64(b, uint64(x))
	case []byte:
		b = append(b, x...)
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crcTable())), nil
}

// UnmarshalValue decodes a record MarshalValue wrote. A record that is
// damaged in any way (its checksum, version, kind, length or content) is an
// error wrapping [ErrCorrupt]; it never panics.
func UnmarshalValue(rec []byte) (any, error) {
	corrupt := func(why string) (any, error) {
		return nil, fmt.Errorf("%w: value record %s", ErrCorrupt, why)
	}
	if len(rec) < 2+4 {
		return corrupt(fmt.Sprintf("is %d bytes, too short", len(rec)))
	}
	if len(rec) > 4*MaxValueSize {
		return corrupt(fmt.Sprintf("is %d bytes, too long", len(rec)))
	}
	body, sum := rec[:len(rec)-4], binary.BigEndian.Uint32(rec[len(rec)-4:])
	if crc32.Checksum(body, crcTable()) != sum {
		return corrupt("fails its checksum")
	}
	if body[0] != recordVersion {
		return corrupt(fmt.Sprintf("has format version %d, not %d", body[0], recordVersion))
	}
	k, p := Kind(body[1]), body[2:]
	fixed := func(n int) bool { return len(p) == n }
	switch k {
	case String:
		return string(p), nil
	case MultiString:
		count, n := binary.Uvarint(p)
		if n <= 0 || count > uint64(len(p)) {
			return corrupt("has a bad multi-string count")
		}
		p = p[n:]
		out := make([]string, 0, count)
		for range count {
			l, n := binary.Uvarint(p)
			if n <= 0 || l > uint64(len(p)-n) {
				return corrupt("has a bad multi-string length")
			}
			out = append(out, string(p[n:n+int(l)]))
			p = p[n+int(l):]
		}
		if len(p) != 0 {
			return corrupt("has bytes after its multi-string")
		}
		return out, nil
	case Int64:
		if fixed(8) {
			return int64(binary.BigEndian.Uint64(p)), nil
		}
	case Uint32:
		if fixed(4) {
			return binary.BigEndian.Uint32(p), nil
		}
	case Uint64:
		if fixed(8) {
			return binary.BigEndian.Uint64(p), nil
		}
	case Bool:
		if fixed(1) && p[0] <= 1 {
			return p[0] == 1, nil
		}
	case Duration:
		if fixed(8) {
			return time.Duration(binary.BigEndian.Uint64(p)), nil
		}
	case Binary:
		return append([]byte{}, p...), nil
	default:
		return corrupt(fmt.Sprintf("has kind %d, not a property kind", body[1]))
	}
	return corrupt(fmt.Sprintf("has %d bytes of %v", len(p), k))
}
