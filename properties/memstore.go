package properties

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
)

// MemStore is a [Store] in memory, for tests and for programs that keep no
// properties across restarts. The zero MemStore is not usable; call
// [NewMemStore].
type MemStore struct {
	mu     sync.RWMutex                    // guards data and closed; an Update holds it for writing throughout
	data   map[string]map[Namespace]Values // resource -> namespace -> values; never holds empty maps or Values
	closed bool
}

var _ Store = (*MemStore)(nil)

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{data: make(map[string]map[Namespace]Values)}
}

// errTxDone is returned by a Tx used after its function returned.
var errTxDone = errors.New("properties: transaction used after it ended")

// errReadOnlyTx is returned by Put and Delete in a View.
var errReadOnlyTx = errors.New("properties: Put or Delete in a read-only transaction")

// memTx is a MemStore transaction over data, which an Update owns (a copy
// of the store's map) and a View shares read-only.
type memTx struct {
	data     map[string]map[Namespace]Values
	writable bool
	done     bool
}

// View runs fn on the current values.
func (s *MemStore) View(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("properties: view: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return fmt.Errorf("properties: view: %w", ErrClosed)
	}
	tx := &memTx{data: s.data}
	defer func() { tx.done = true }()
	return fn(tx)
}

// Update runs fn on a copy of the values and keeps the copy if fn returns
// nil.
func (s *MemStore) Update(ctx context.Context, fn func(Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("properties: update: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("properties: update: %w", ErrClosed)
	}
	// Copy two levels; Values are never changed in place, so they are
	// shared.
	data := make(map[string]map[Namespace]Values, len(s.data))
	for r, nss := range s.data {
		data[r] = maps.Clone(nss)
	}
	tx := &memTx{data: data, writable: true}
	defer func() { tx.done = true }()
	if err := fn(tx); err != nil {
		return err
	}
	s.data = data
	return nil
}

// Close empties the store; later calls fail with ErrClosed.
func (s *MemStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.data = nil
	return nil
}

func (tx *memTx) Get(resource string, ns Namespace) (Values, error) {
	if tx.done {
		return Values{}, errTxDone
	}
	return tx.data[resource][ns].Clone(), nil
}

func (tx *memTx) Put(resource string, ns Namespace, vals Values) error {
	switch {
	case tx.done:
		return errTxDone
	case !tx.writable:
		return errReadOnlyTx
	}
	if err := CheckPut(resource, ns, vals); err != nil {
		return err
	}
	if vals.Len() == 0 {
		delete(tx.data[resource], ns)
		if len(tx.data[resource]) == 0 {
			delete(tx.data, resource)
		}
		return nil
	}
	if tx.data[resource] == nil {
		tx.data[resource] = make(map[Namespace]Values)
	}
	tx.data[resource][ns] = vals.Clone()
	return nil
}

func (tx *memTx) Delete(resource string) error {
	switch {
	case tx.done:
		return errTxDone
	case !tx.writable:
		return errReadOnlyTx
	}
	delete(tx.data, resource)
	return nil
}

func (tx *memTx) Resources(ns Namespace) ([]string, error) {
	if tx.done {
		return nil, errTxDone
	}
	var out []string
	for r, nss := range tx.data {
		if _, ok := nss[ns]; ok {
			out = append(out, r)
		}
	}
	slices.Sort(out)
	return out, nil
}
