package monitor

import (
	"slices"

	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/wrapper"
)

// Subscription receives the monitor's events through a bounded queue of its
// own (R36): the monitor never waits for it; when the queue is full the
// subscriber later receives one event of kind resource.EventsDropped whose
// Dropped field says how many it missed. Status still shows every failure
// and failover request.
type Subscription struct {
	m *Monitor
	q *wrapper.EventQueue
}

// Subscribe returns a subscription with a queue of size events
// (DefaultSubscriptionSize when size is 0 or less). Events of one resource
// arrive in sequence order.
func (m *Monitor) Subscribe(size int) *Subscription {
	if size <= 0 {
		size = DefaultSubscriptionSize
	}
	s := &Subscription{m: m, q: wrapper.NewEventQueue(size)}
	m.subMu.Lock()
	m.subs = append(m.subs, s)
	m.nsubs.Store(int32(len(m.subs)))
	m.subMu.Unlock()
	return s
}

// C returns the channel the events arrive on. Close closes it, after what
// was queued, so `for e := range sub.C()` ends.
func (s *Subscription) C() <-chan resource.Event { return s.q.C() }

// Close ends the subscription and closes its channel. Calling it again does
// nothing.
func (s *Subscription) Close() {
	s.m.subMu.Lock()
	defer s.m.subMu.Unlock()
	if i := slices.Index(s.m.subs, s); i >= 0 {
		s.m.subs = slices.Delete(s.m.subs, i, i+1)
		s.m.nsubs.Store(int32(len(s.m.subs)))
		s.q.Close() // no publish runs: it holds subMu while it sends
	}
}

// publish hands ev to every subscription without blocking. It takes a
// pointer and keeps a small frame (see onEvent).
func (m *Monitor) publish(ev *resource.Event) {
	if m.nsubs.Load() == 0 {
		return // no read lock to take: its count is a write that both CPUs of a storm fought over
	}
	m.subMu.RLock()
	if len(m.subs) > 0 {
		m.sendLocked(ev)
	}
	m.subMu.RUnlock()
}

// sendLocked is publish's loop, out of line: the copy of the event each
// subscription's queue takes would double publish's frame. Called with
// subMu held.
//
//go:noinline
func (m *Monitor) sendLocked(ev *resource.Event) {
	for _, s := range m.subs {
		s.q.Sink(*ev)
	}
}

// Dropped returns how many events this subscription lost that no
// EventsDropped marker has reported yet (one will, before the next event
// that fits).
func (s *Subscription) Dropped() uint64 { return s.q.Dropped() }
