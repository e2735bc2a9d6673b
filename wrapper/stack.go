package wrapper

import (
	"bytes"
	"context"
	"reflect"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
)

// callLabel is the pprof goroutine label that marks the goroutine running
// a call, so that an abandoned call's stack can be found again (R35). The
// value is a number, held by one running call at a time (labels are
// reused, below). Goroutines a call starts inherit it, and keep it after
// the call returned; so a stack is taken only from a goroutine that is
// inside the wrapper's invoke (invokeFrame): the call's own. The label
// also shows in CPU and goroutine profiles the user takes.
const callLabel = "resdll.call"

// callTags numbers the calls of every wrapper in the process.
var callTags atomic.Uint64

// label is one tag and the context whose pprof labels carry it; the
// goroutine running a call sets them on itself with
// pprof.SetGoroutineLabels. That costs no stack walk, so it is done for
// every call; the stack is read only when Abandoned asks for it.
type label struct {
	tag uint64
	ctx context.Context
}

// labels holds the labels of calls that returned without being abandoned,
// for reuse: a label costs ~150 bytes, and making one per call (or keeping
// one per wrapper) was a large part of the engine's cost per check and per
// idle resource (issue 10). Only a label no Abandoned can have seen goes
// back: an abandoned call keeps its tag for good. With invokeFrame, a
// stack found by tag is that call's.
var labels = sync.Pool{New: func() any {
	tag := callTags.Add(1)
	return &label{tag: tag, ctx: pprof.WithLabels(context.Background(), pprof.Labels(callLabel, strconv.FormatUint(tag, 10)))}
}}

// getLabel returns a label no running call has.
func getLabel() *label { return labels.Get().(*label) }

// putLabel hands back the label of a call that returned and was never
// abandoned.
func putLabel(l *label) { labels.Put(l) }

// goroutineStacks returns the stacks of the goroutines labelled with the
// given tags (by label), from one goroutine profile. Tags not found
// (the goroutine ended) are missing from the map. A stack is written one
// frame per two lines, function then file:line, innermost first, as in a
// panic's trace.
func goroutineStacks(tags []uint64) map[uint64][]byte {
	out := make(map[uint64][]byte, len(tags))
	if len(tags) == 0 {
		return out
	}
	want := make(map[string]uint64, len(tags))
	for _, tag := range tags {
		want[`"`+callLabel+`":"`+strconv.FormatUint(tag, 10)+`"`] = tag
	}
	var prof bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&prof, 1); err != nil {
		return out
	}
	for record := range bytes.SplitSeq(prof.Bytes(), []byte("\n\n")) {
		tag, ok := recordTag(record, want)
		if !ok || !bytes.Contains(record, invokeFrame) {
			continue // not a call's goroutine: one its call started, which inherited the label
		}
		var b bytes.Buffer
		b.WriteString("goroutine running call " + strconv.FormatUint(tag, 10) + ":\n")
		for line := range bytes.SplitSeq(record, []byte("\n")) {
			// A frame: "#\t0x47b2a5\tpkg.fn+0x31\t/path/file.go:18", with as
			// many tabs between the fields as the columns' alignment takes.
			f := bytes.FieldsFunc(line, func(r rune) bool { return r == '\t' })
			if len(f) != 4 || string(f[0]) != "#" {
				continue
			}
			fn := f[2]
			if i := bytes.LastIndex(fn, []byte("+0x")); i > 0 {
				fn = fn[:i]
			}
			b.Write(fn)
			b.WriteString("\n\t")
			b.Write(f[3])
			b.WriteByte('\n')
		}
		if prev := out[tag]; prev != nil { // the profile split one call's goroutines: every stack
			out[tag] = append(append(prev, '\n'), b.Bytes()...)
			continue
		}
		out[tag] = b.Bytes()
	}
	return out
}

// invokeFrame is how a goroutine profile names Wrapper.invoke, under which
// every call into a resource runs.
var invokeFrame = []byte(reflect.TypeFor[Wrapper]().PkgPath() + ".(*Wrapper).invoke+")

// recordTag returns the tag of the call a goroutine-profile record is
// labelled with, when it is one of want.
func recordTag(record []byte, want map[string]uint64) (uint64, bool) {
	for line := range bytes.SplitSeq(record, []byte("\n")) {
		labels, ok := bytes.CutPrefix(line, []byte("# labels: "))
		if !ok {
			continue
		}
		for key, tag := range want {
			if bytes.Contains(labels, []byte(key)) {
				return tag, true
			}
		}
	}
	return 0, false
}
