package resourcetest

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/resdll/resdll/resource"
)

// TB is the part of testing.TB the recorder's assertions use.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// Recorder is an event sink that keeps every event it receives. Pass
// Recorder.Sink as the engine's sink. It is safe for concurrent use.
type Recorder struct {
	mu      sync.Mutex
	events  []resource.Event
	changed chan struct{} // closed and replaced on every event
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{changed: make(chan struct{})} }

// Sink records e. It never blocks.
func (r *Recorder) Sink(e resource.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
	close(r.changed)
	r.changed = make(chan struct{})
}

// Events returns the events received so far.
func (r *Recorder) Events() []resource.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]resource.Event(nil), r.events...)
}

// Len returns how many events were received.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// Match selects events; a zero field matches anything, except Kind (zero:
// state changes only, unless AnyKind) and a To set by [To] (which may be
// Unknown, the state after Close).
type Match struct {
	Resource string
	Kind     resource.EventKind
	AnyKind  bool // match every kind
	From, To resource.State
	Op       resource.Op
	Forced   bool // match only forced events

	toSet bool // To was given with To(), so Unknown means Unknown
}

// To matches the state change into s.
func To(s resource.State) Match { return Match{To: s, toSet: true} }

// OfKind matches events of kind k.
func OfKind(k resource.EventKind) Match { return Match{Kind: k} }

// Matches reports whether e is selected by m.
func (m Match) Matches(e resource.Event) bool {
	switch {
	case m.Resource != "" && e.Resource != m.Resource,
		!m.AnyKind && e.Kind != m.Kind,
		m.From != resource.Unknown && e.From != m.From,
		(m.toSet || m.To != resource.Unknown) && e.To != m.To,
		m.Op != resource.OpNone && e.Op != m.Op,
		m.Forced && !e.Forced:
		return false
	}
	return true
}

// Wait blocks until the n-th event matching m (counting from the first event
// ever received, n ≥ 1) has arrived, and returns it, or ctx's error.
func (r *Recorder) Wait(ctx context.Context, m Match, n int) (resource.Event, error) {
	for {
		r.mu.Lock()
		seen := 0
		for _, e := range r.events {
			if m.Matches(e) {
				seen++
				if seen == n {
					r.mu.Unlock()
					return e, nil
				}
			}
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return resource.Event{}, fmt.Errorf("resourcetest: waiting for event %d matching %+v; have %s: %w", n, m, r.Timeline(), ctx.Err())
		}
	}
}

// Transitions returns the state changes as "From→To" strings, in order.
func (r *Recorder) Transitions() []string {
	var out []string
	for _, e := range r.Events() {
		if e.Kind == resource.StateChanged {
			out = append(out, e.From.String()+"→"+e.To.String())
		}
	}
	return out
}

// Timeline returns every event as a line, for failure messages.
func (r *Recorder) Timeline() string {
	var b strings.Builder
	for _, e := range r.Events() {
		b.WriteString("\n  ")
		b.WriteString(e.String())
	}
	return b.String()
}

// CheckSequence reports the events whose sequence numbers are not 1, 2,
// 3, … per resource without gaps, or whose states do not chain (each state
// change starts where the last one ended), as an error (R4).
func (r *Recorder) CheckSequence() error {
	last := map[string]uint64{}
	state := map[string]resource.State{}
	var problems []string
	for _, e := range r.Events() {
		if e.Kind == resource.EventsDropped && e.Seq == 0 {
			continue
		}
		if e.Seq != last[e.Resource]+1 {
			problems = append(problems, fmt.Sprintf("%s: seq %d after %d", e.Resource, e.Seq, last[e.Resource]))
		}
		last[e.Resource] = e.Seq
		if s, ok := state[e.Resource]; ok && e.From != s {
			problems = append(problems, fmt.Sprintf("%s #%d: from %v, but the state was %v", e.Resource, e.Seq, e.From, s))
		}
		state[e.Resource] = e.To
	}
	if len(problems) > 0 {
		return fmt.Errorf("resourcetest: event sequence broken: %s", strings.Join(problems, "; "))
	}
	return nil
}

// AssertTransitions fails t unless the state changes are exactly want, each
// written "From→To".
func (r *Recorder) AssertTransitions(t TB, want ...string) {
	t.Helper()
	got := r.Transitions()
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("transitions:\n got  %s\n want %s\ntimeline:%s", strings.Join(got, " "), strings.Join(want, " "), r.Timeline())
	}
}

// Follow records the events that arrive on ch, in a goroutine of its own
// that ends when ch is closed (close it, or the subscription behind it, to
// stop following).
func (r *Recorder) Follow(ch <-chan resource.Event) {
	go func() {
		for e := range ch {
			r.Sink(e)
		}
	}()
}
