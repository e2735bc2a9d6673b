package monitor

import "sync"

// opGate bounds the Online and Offline operations running at once (R39):
// a queue, not a refusal. It implements wrapper.Gate.
type opGate struct {
	max int

	mu      sync.Mutex // guards running and queue
	running int
	queue   []func() // admissions waiting, oldest first
}

// Enter admits at once when a slot is free, or queues the admission.
func (g *opGate) Enter(admit func()) {
	g.mu.Lock()
	if g.running < g.max {
		g.running++
		g.mu.Unlock()
		admit()
		return
	}
	g.queue = append(g.queue, admit)
	g.mu.Unlock()
}

// Leave hands the slot to the oldest queued operation, or frees it.
func (g *opGate) Leave() {
	g.mu.Lock()
	if len(g.queue) > 0 {
		next := g.queue[0]
		g.queue = g.queue[1:]
		g.mu.Unlock()
		next() // the slot passes on: running stays the same
		return
	}
	g.running--
	g.mu.Unlock()
}
