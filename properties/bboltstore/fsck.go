package bboltstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
)

// The bbolt v1 file format, as go.etcd.io/bbolt v1.4 writes it (see its
// internal/common/page.go and meta.go). bbolt reads these structures
// through unsafe pointers into a memory map, so a damaged file can make it
// panic, fault, recurse forever or allocate without bound. fsck reads them
// with ordinary, bounds-checked Go before bbolt sees the file, so that
// bbolt only ever reads a file whose structure holds together (R56). bbolt
// writes them in the machine's own byte order.
const (
	pageHeaderSize   = 16 // id u64, flags u16, count u16, overflow u32
	elementSize      = 16 // branch: pos u32, ksize u32, pgid u64; leaf: flags u32, pos u32, ksize u32, vsize u32
	bucketHeaderSize = 16 // root pgid u64, sequence u64
	metaOffset       = pageHeaderSize
	metaSumOffset    = 56 // bytes of the meta that the checksum covers

	branchPage   = 0x01
	leafPage     = 0x02
	metaPage     = 0x04
	freelistPage = 0x10
	bucketLeaf   = 0x01

	magic        = 0xED0CDAED
	version      = 2
	noFreelist   = ^uint64(0)
	maxTreeDepth = 64 // far deeper than any store of ours gets
)

// meta is the part of a meta page fsck uses.
type meta struct {
	pageSize uint32
	root     uint64
	freelist uint64
	pgid     uint64 // the high-water mark: pages [0, pgid) are in use or free
	txid     uint64
}

// parseMeta reads the meta page at the start of b and checks its magic,
// version and checksum.
func parseMeta(b []byte) (meta, error) {
	if len(b) < metaOffset+metaSumOffset+8 {
		return meta{}, errors.New("too short for a meta page")
	}
	m := b[metaOffset:]
	switch {
	case binary.NativeEndian.Uint32(m[0:]) != magic:
		return meta{}, errors.New("no bbolt magic number")
	case binary.NativeEndian.Uint32(m[4:]) != version:
		return meta{}, fmt.Errorf("bbolt format version %d, not %d", binary.NativeEndian.Uint32(m[4:]), version)
	}
	h := fnv.New64a()
	_, _ = h.Write(m[:metaSumOffset])
	if h.Sum64() != binary.NativeEndian.Uint64(m[metaSumOffset:]) {
		return meta{}, errors.New("meta checksum mismatch")
	}
	return meta{
		pageSize: binary.NativeEndian.Uint32(m[8:]),
		root:     binary.NativeEndian.Uint64(m[16:]),
		freelist: binary.NativeEndian.Uint64(m[32:]),
		pgid:     binary.NativeEndian.Uint64(m[40:]),
		txid:     binary.NativeEndian.Uint64(m[48:]),
	}, nil
}

// checker walks one file.
type checker struct {
	r        io.ReaderAt
	size     uint64
	pageSize uint64
	hwm      uint64          // the chosen meta's pgid
	reached  map[uint64]bool // pages reached from the root, overflow pages included
	freed    map[uint64]bool // pages the freelist lists
}

// fsck checks the structure of the bbolt file r of the given size: a valid
// meta page as bbolt would choose it, a freelist and a B+tree of buckets
// whose every page, element, key, value and nested bucket lies inside the
// file and is reached once. It returns a description of the first problem,
// or nil.
func fsck(r io.ReaderAt, size int64) error {
	if size <= 0 {
		return errors.New("the file is empty")
	}
	c := &checker{r: r, size: uint64(size), reached: make(map[uint64]bool), freed: make(map[uint64]bool)}
	m, err := c.chooseMeta()
	if err != nil {
		return err
	}
	c.pageSize, c.hwm = uint64(m.pageSize), m.pgid
	switch {
	case c.hwm < 2 || c.hwm > c.size/c.pageSize:
		return fmt.Errorf("meta page: %d pages in use, but the file holds %d", c.hwm, c.size/c.pageSize)
	case m.root < 2 || m.root >= c.hwm:
		return fmt.Errorf("meta page: root page %d is out of range [2, %d)", m.root, c.hwm)
	case m.freelist != noFreelist && (m.freelist < 2 || m.freelist >= c.hwm):
		return fmt.Errorf("meta page: freelist page %d is out of range [2, %d)", m.freelist, c.hwm)
	}
	// bbolt's check asserts that both meta pages say who they are.
	for id := range uint64(2) {
		hdr := make([]byte, pageHeaderSize)
		if _, err := c.r.ReadAt(hdr, int64(id*c.pageSize)); err != nil {
			return fmt.Errorf("meta page %d: %w", id, err)
		}
		if got, flags := binary.NativeEndian.Uint64(hdr), binary.NativeEndian.Uint16(hdr[8:]); got != id || flags != metaPage {
			return fmt.Errorf("meta page %d has a damaged header (names itself page %d, type %#x)", id, got, flags)
		}
		c.reached[id] = true
	}
	if m.freelist != noFreelist {
		if err := c.freelist(m.freelist); err != nil {
			return err
		}
	}
	if err := c.tree(m.root, 0); err != nil {
		return err
	}
	for id := range c.reached {
		if c.freed[id] {
			return fmt.Errorf("page %d is both in use and free", id)
		}
	}
	return nil
}

// chooseMeta finds the page size as bbolt does and returns the meta page
// bbolt would use: the valid one with the higher transaction id.
func (c *checker) chooseMeta() (meta, error) {
	first := make([]byte, 4096)
	n, _ := c.r.ReadAt(first, 0)
	first = first[:n]
	pageSize := uint64(0)
	if m, err := parseMeta(first); err == nil {
		pageSize = uint64(m.pageSize)
	} else {
		// bbolt tries the second meta page at each power of two.
		for i := range 15 {
			pos := uint64(1024) << i
			if pos+1024 >= c.size {
				break
			}
			buf := make([]byte, 4096)
			n, _ := c.r.ReadAt(buf, int64(pos))
			if m, err := parseMeta(buf[:n]); err == nil && uint64(m.pageSize) == pos {
				pageSize = pos
				break
			}
		}
	}
	if pageSize < 1024 || pageSize > 1<<24 || pageSize&(pageSize-1) != 0 {
		return meta{}, errors.New("both meta pages are damaged (no valid meta page gives the page size)")
	}
	var metas [2]meta
	var errs [2]error
	for i := range 2 {
		buf := make([]byte, metaOffset+metaSumOffset+8)
		if _, err := c.r.ReadAt(buf, int64(uint64(i)*pageSize)); err != nil {
			errs[i] = err
			continue
		}
		metas[i], errs[i] = parseMeta(buf)
		if errs[i] == nil && uint64(metas[i].pageSize) != pageSize {
			errs[i] = fmt.Errorf("page size %d, not %d", metas[i].pageSize, pageSize)
		}
	}
	a, b := 0, 1
	if metas[1].txid > metas[0].txid {
		a, b = 1, 0
	}
	switch {
	case errs[a] == nil:
		return metas[a], nil
	case errs[b] == nil:
		return metas[b], nil
	}
	return meta{}, fmt.Errorf("both meta pages are damaged: page 0: %v; page 1: %v", errs[0], errs[1])
}

// readPage reads page id with its overflow pages, after checking that it is
// in range, names itself id, and has not been reached before.
func (c *checker) readPage(id uint64) ([]byte, error) {
	if id < 2 || id >= c.hwm {
		return nil, fmt.Errorf("page %d is out of range [2, %d)", id, c.hwm)
	}
	hdr := make([]byte, pageHeaderSize)
	if _, err := c.r.ReadAt(hdr, int64(id*c.pageSize)); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	if got := binary.NativeEndian.Uint64(hdr); got != id {
		return nil, fmt.Errorf("page %d names itself page %d", id, got)
	}
	overflow := uint64(binary.NativeEndian.Uint32(hdr[12:]))
	if id+overflow >= c.hwm {
		return nil, fmt.Errorf("page %d: %d overflow pages run past page %d", id, overflow, c.hwm)
	}
	for i := id; i <= id+overflow; i++ {
		if c.reached[i] {
			return nil, fmt.Errorf("page %d is reached twice", i)
		}
		c.reached[i] = true
	}
	buf := make([]byte, (overflow+1)*c.pageSize)
	if _, err := c.r.ReadAt(buf, int64(id*c.pageSize)); err != nil {
		return nil, fmt.Errorf("page %d: %w", id, err)
	}
	return buf, nil
}

// freelist checks the freelist page and records the free pages.
func (c *checker) freelist(id uint64) error {
	p, err := c.readPage(id)
	if err != nil {
		return fmt.Errorf("freelist: %w", err)
	}
	if flags := binary.NativeEndian.Uint16(p[8:]); flags != freelistPage {
		return fmt.Errorf("freelist page %d has type %#x, not freelist", id, flags)
	}
	start, count := uint64(0), uint64(binary.NativeEndian.Uint16(p[10:]))
	if count == 0xFFFF {
		if len(p) < pageHeaderSize+8 {
			return fmt.Errorf("freelist page %d is too short", id)
		}
		start, count = 1, binary.NativeEndian.Uint64(p[pageHeaderSize:])
	}
	if room := uint64(len(p)-pageHeaderSize) / 8; count > room || start+count > room {
		return fmt.Errorf("freelist page %d lists %d pages, but holds at most %d", id, count, room)
	}
	for i := start; i < start+count; i++ {
		free := binary.NativeEndian.Uint64(p[pageHeaderSize+8*i:])
		if free < 2 || free >= c.hwm {
			return fmt.Errorf("freelist page %d lists page %d, out of range [2, %d)", id, free, c.hwm)
		}
		if c.freed[free] {
			return fmt.Errorf("freelist page %d lists page %d twice", id, free)
		}
		c.freed[free] = true
	}
	return nil
}

// tree checks the B+tree rooted at page id.
func (c *checker) tree(id uint64, depth int) error {
	if depth > maxTreeDepth {
		return fmt.Errorf("page %d: the tree is deeper than %d levels", id, maxTreeDepth)
	}
	p, err := c.readPage(id)
	if err != nil {
		return err
	}
	switch flags := binary.NativeEndian.Uint16(p[8:]); flags {
	case branchPage:
		return c.branch(id, p, depth)
	case leafPage:
		return c.leaf(fmt.Sprintf("page %d", id), p, depth)
	default:
		return fmt.Errorf("page %d has type %#x, where a branch or leaf page belongs", id, flags)
	}
}

// elements returns the count of p's elements after checking they fit.
func elements(where string, p []byte) (int, error) {
	count := int(binary.NativeEndian.Uint16(p[10:]))
	if pageHeaderSize+count*elementSize > len(p) {
		return 0, fmt.Errorf("%s: %d elements do not fit in %d bytes", where, count, len(p))
	}
	return count, nil
}

// span checks that n bytes at off+pos lie inside p.
func span(p []byte, off int, pos, n uint32) ([]byte, bool) {
	start := uint64(off) + uint64(pos)
	end := start + uint64(n)
	if end > uint64(len(p)) {
		return nil, false
	}
	return p[start:end], true
}

func (c *checker) branch(id uint64, p []byte, depth int) error {
	count, err := elements(fmt.Sprintf("branch page %d", id), p)
	if err != nil {
		return err
	}
	if count == 0 {
		return fmt.Errorf("branch page %d has no elements", id)
	}
	for i := range count {
		off := pageHeaderSize + i*elementSize
		if _, ok := span(p, off, binary.NativeEndian.Uint32(p[off:]), binary.NativeEndian.Uint32(p[off+4:])); !ok {
			return fmt.Errorf("branch page %d: key %d lies outside the page", id, i)
		}
		if err := c.tree(binary.NativeEndian.Uint64(p[off+8:]), depth+1); err != nil {
			return err
		}
	}
	return nil
}

// leaf checks a leaf page, or an inline bucket's page, and the buckets its
// elements hold.
func (c *checker) leaf(where string, p []byte, depth int) error {
	count, err := elements(where, p)
	if err != nil {
		return err
	}
	for i := range count {
		off := pageHeaderSize + i*elementSize
		flags, pos, ksize, vsize := binary.NativeEndian.Uint32(p[off:]), binary.NativeEndian.Uint32(p[off+4:]), binary.NativeEndian.Uint32(p[off+8:]), binary.NativeEndian.Uint32(p[off+12:])
		if flags&^bucketLeaf != 0 {
			return fmt.Errorf("%s: element %d has flags %#x", where, i, flags)
		}
		if _, ok := span(p, off, pos, ksize); !ok {
			return fmt.Errorf("%s: key %d lies outside the page", where, i)
		}
		val, ok := span(p, off, pos+ksize, vsize)
		if !ok || pos+ksize < pos {
			return fmt.Errorf("%s: value %d lies outside the page", where, i)
		}
		if flags&bucketLeaf == 0 {
			continue
		}
		if len(val) < bucketHeaderSize {
			return fmt.Errorf("%s: bucket %d has a %d-byte header", where, i, len(val))
		}
		if root := binary.NativeEndian.Uint64(val); root != 0 {
			if err := c.tree(root, depth+1); err != nil {
				return err
			}
			continue
		}
		inline := val[bucketHeaderSize:]
		if len(inline) < pageHeaderSize {
			return fmt.Errorf("%s: inline bucket %d is too short", where, i)
		}
		if f := binary.NativeEndian.Uint16(inline[8:]); f != leafPage {
			return fmt.Errorf("%s: inline bucket %d has type %#x, not leaf", where, i, f)
		}
		if depth+1 > maxTreeDepth {
			return fmt.Errorf("%s: buckets nest deeper than %d levels", where, maxTreeDepth)
		}
		if err := c.leaf(fmt.Sprintf("%s, inline bucket %d", where, i), inline, depth+1); err != nil {
			return err
		}
	}
	return nil
}
