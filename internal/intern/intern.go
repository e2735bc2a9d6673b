// Package intern shares one copy of equal values: the engine keeps a policy
// per resource, and a node's thousands of resources mostly have the same
// one.
package intern

import "sync"

// DefaultMax is how many distinct values a Cache keeps by default.
const DefaultMax = 64

// Cache hands out one *T per distinct value. It keeps the first Max distinct
// values it sees (DefaultMax when Max is 0); past those each value gets its
// own copy, so churn cannot grow it without bound. Callers must not change
// what a returned pointer points to. The zero value is ready to use and
// safe for concurrent use.
type Cache[T comparable] struct {
	Max int

	mu sync.Mutex
	m  map[T]*T
}

// Get returns the shared copy of v.
func (c *Cache[T]) Get(v T) *T {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.m[v]; ok {
		return p
	}
	// A copy, made here: taking &v would move v to the heap on every call,
	// a hit included.
	p := new(T)
	*p = v
	limit := c.Max
	if limit == 0 {
		limit = DefaultMax
	}
	if len(c.m) >= limit {
		return p
	}
	if c.m == nil {
		c.m = make(map[T]*T)
	}
	c.m[v] = p
	return p
}
