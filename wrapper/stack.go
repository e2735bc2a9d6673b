package wrapper

import (
	"bytes"
	"runtime"
	"strconv"
)

// goroutineID returns the calling goroutine's id, read from the first line
// of its stack ("goroutine 42 [running]:"). Go offers no other way; it is
// used only to find an abandoned call's stack for R35.
func goroutineID() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		id, _ := strconv.ParseUint(string(b[:i]), 10, 64)
		return id
	}
	return 0
}

// goroutineStacks returns the stacks of the goroutines with the given ids,
// from one dump of all goroutines. Ids not found (the goroutine ended) are
// missing from the map.
func goroutineStacks(ids []uint64) map[uint64][]byte {
	out := make(map[uint64][]byte, len(ids))
	if len(ids) == 0 {
		return out
	}
	want := make(map[uint64]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	for block := range bytes.SplitSeq(buf, []byte("\n\n")) {
		rest, ok := bytes.CutPrefix(block, []byte("goroutine "))
		if !ok {
			continue
		}
		i := bytes.IndexByte(rest, ' ')
		if i <= 0 {
			continue
		}
		id, err := strconv.ParseUint(string(rest[:i]), 10, 64)
		if err == nil && want[id] {
			out[id] = bytes.Clone(block)
		}
	}
	return out
}
