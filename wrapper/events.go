package wrapper

import (
	"sync"
	"time"

	"github.com/resdll/resdll/resource"
)

// EventQueue adapts a wrapper's sink to a bounded channel, for a wrapper used
// without a monitor. Its Sink never blocks: when the channel is full the
// event is counted, and the reader later receives one event of kind
// resource.EventsDropped, whose Dropped field says how many it missed, in
// their place (as the monitor's subscriptions do, R36).
type EventQueue struct {
	c chan resource.Event // buffered; closed by Close

	mu      sync.Mutex // serialises Sink, guards dropped
	dropped uint64     // events lost since the last marker
	last    string     // the resource of the last event, for the marker
}

// NewEventQueue returns a queue holding up to size events (at least 1).
func NewEventQueue(size int) *EventQueue {
	return &EventQueue{c: make(chan resource.Event, max(size, 1))}
}

// C returns the channel the events arrive on. It is closed by Close.
func (q *EventQueue) C() <-chan resource.Event { return q.c }

// Close closes the channel, so a reader ranging over it stops once it has
// read what is queued. Sink must not be called after Close.
func (q *EventQueue) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	close(q.c)
}

// Sink delivers e without blocking; pass it as Options.Sink.
func (q *EventQueue) Sink(e resource.Event) {
	q.mu.Lock()
	if q.dropped == 0 || q.sendMarker(e.Time) {
		select {
		case q.c <- e:
			q.mu.Unlock()
			return
		default:
		}
	}
	q.dropped++
	q.last = e.Resource
	q.mu.Unlock()
}

// sendMarker tries to queue the EventsDropped marker for what was lost,
// reporting whether it did. Called with q.mu held. A function of its own,
// so that Sink, which a monitor calls at the bottom of a call goroutine's
// stack, keeps a small frame for the common case (issue 10).
//
//go:noinline
func (q *EventQueue) sendMarker(at time.Time) bool {
	marker := resource.Event{Resource: q.last, Kind: resource.EventsDropped, Dropped: q.dropped, Time: at}
	select {
	case q.c <- marker:
		q.dropped = 0
		return true
	default:
		return false
	}
}

// Dropped returns how many events were lost and not yet reported by a
// marker.
func (q *EventQueue) Dropped() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}
