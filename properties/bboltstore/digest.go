package bboltstore

import (
	"encoding/binary"
	"hash/fnv"
)

// Digests let Open and Get notice damage that bbolt's structure does not
// show: a record or a whole bucket that vanished (a leaf's element count
// damaged), a renamed key, a value from another place. Each level keeps the
// XOR of a 64-bit FNV-1a hash of each of its entries (name and content), so
// a Put updates its resource's and the file's digest in constant time:
//
//	namespace bucket  key "\x00digest" = XOR of h(property, record)
//	resource bucket   key "\x00digest" = XOR of h(namespace, its digest)
//	resdll bucket     key "digest"     = XOR of h(resource, its digest)
//
// Names of properties, namespaces and resources are printable, so the
// "\x00digest" key never collides with one.

const digestKey = "\x00digest"

// entryHash hashes one named entry.
func entryHash(name, content []byte) uint64 {
	h := fnv.New64a()
	var n [binary.MaxVarintLen64]byte
	_, _ = h.Write(n[:binary.PutUvarint(n[:], uint64(len(name)))])
	_, _ = h.Write(name)
	_, _ = h.Write(content)
	return h.Sum64()
}

// digestBytes encodes a digest as stored.
func digestBytes(d uint64) []byte { return binary.BigEndian.AppendUint64(nil, d) }

// parseDigest decodes a stored digest.
func parseDigest(b []byte) (uint64, bool) {
	if len(b) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(b), true
}

// childHash is the hash a child bucket with digest d contributes to its
// parent's digest.
func childHash(name []byte, d uint64) uint64 { return entryHash(name, digestBytes(d)) }
