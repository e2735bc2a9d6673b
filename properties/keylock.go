package properties

import (
	"context"
	"sync"
)

// keyLock is a mutex per key (a resource's name) whose Lock honours a
// context. Entries exist only while someone holds or waits for them.
type keyLock struct {
	mu    sync.Mutex           // guards locks
	locks map[string]*keyEntry // lazily initialised
}

type keyEntry struct {
	held chan struct{} // capacity 1: full while the key is held
	refs int           // holders and waiters; guarded by keyLock.mu
}

// lock waits until key is free or ctx is done, and returns the function
// that frees it.
func (l *keyLock) lock(ctx context.Context, key string) (unlock func(), err error) {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = make(map[string]*keyEntry)
	}
	e := l.locks[key]
	if e == nil {
		e = &keyEntry{held: make(chan struct{}, 1)}
		l.locks[key] = e
	}
	e.refs++
	l.mu.Unlock()

	select {
	case e.held <- struct{}{}:
		return func() {
			<-e.held
			l.release(key, e)
		}, nil
	case <-ctx.Done():
		l.release(key, e)
		return nil, ctx.Err()
	}
}

func (l *keyLock) release(key string, e *keyEntry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e.refs--
	if e.refs == 0 {
		delete(l.locks, key)
	}
}
