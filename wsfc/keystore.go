package wsfc

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/resdll/resdll/properties"
)

// RegBinary is the registry type REG_BINARY, in which the key store keeps
// each value.
const RegBinary = 3

// KeyValue is one value of a registry key.
type KeyValue struct {
	Name string
	Type uint32 // REG_SZ, REG_DWORD, REG_BINARY, …
	Data []byte
}

// KeyChange is one write of a batch: a value of a subkey set to Data
// (REG_BINARY), or deleted when Delete is true.
type KeyChange struct {
	Subkey string
	Name   string
	Data   []byte
	Delete bool
}

// Key is a resource's key in the cluster database (the ResourceKey that Open
// receives), as the key store uses it: the values of its subkeys, read one
// subkey at a time and written in one atomic batch. On Windows it is the
// cluster registry (ClusterRegOpenKey, ClusterRegEnumValue, and
// ClusterRegCreateBatch for the batch); the values then move with the
// resource's group, because the cluster database is the cluster's.
type Key interface {
	// ReadSubkey returns the values of the named subkey; none, and no error,
	// when the subkey does not exist.
	ReadSubkey(subkey string) ([]KeyValue, error)

	// Commit applies the batch, creating subkeys as needed: every change
	// takes effect, or none does.
	Commit(batch []KeyChange) error
}

// KeyStore is a properties.Store over one resource's Key: namespace ns of the
// resource is the key's subkey named ns (properties.Parameters is the
// Parameters subkey, where Windows keeps private properties), each property a
// REG_BINARY value holding the record properties.MarshalValue writes (the
// kind, the value and a CRC-32C), so every kind reads back exactly and a
// damaged value is reported, not misread (R56). An Update is one Commit.
//
// A KeyStore holds one resource: a transaction naming another is refused
// with an error wrapping properties.ErrInvalid, and Resources lists at most
// that one. It is safe for concurrent use: Updates run one at a time, and a
// View never sees half of one.
type KeyStore struct {
	resource   string
	key        Key
	namespaces []properties.Namespace

	mu     sync.RWMutex // Update holds it for writing, View for reading
	closed bool         // guarded by mu
}

// NewKeyStore returns the store of resource's properties over its key.
// namespaces lists the subkeys a Tx.Delete of the resource empties; none
// means properties.Parameters and its sync namespace, which are the ones a
// properties.Manager of private properties uses. Other subkeys of the
// resource's key (the cluster's own) are never touched.
func NewKeyStore(resource string, key Key, namespaces ...properties.Namespace) *KeyStore {
	if len(namespaces) == 0 {
		namespaces = []properties.Namespace{properties.Parameters, properties.Parameters.Sync()}
	}
	return &KeyStore{resource: resource, key: key, namespaces: namespaces}
}

// View runs fn on the values as stored now.
func (s *KeyStore) View(ctx context.Context, fn func(properties.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return fmt.Errorf("wsfc: key store of %q: %w", s.resource, properties.ErrClosed)
	}
	tx := &keyTx{s: s}
	defer tx.end()
	return fn(tx)
}

// Update runs fn and commits what it wrote in one batch if it returns nil.
// If fn fails or panics, or the commit fails, nothing is written.
func (s *KeyStore) Update(ctx context.Context, fn func(properties.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("wsfc: key store of %q: %w", s.resource, properties.ErrClosed)
	}
	tx := &keyTx{s: s, writable: true, pending: map[properties.Namespace]properties.Values{}}
	defer tx.end()
	if err := fn(tx); err != nil {
		return err
	}
	batch, err := tx.batch()
	if err != nil {
		return err
	}
	if len(batch) == 0 {
		return nil
	}
	if err := s.key.Commit(batch); err != nil {
		return fmt.Errorf("wsfc: committing the properties of %q to the cluster database: %w", s.resource, err)
	}
	return nil
}

// Close makes later calls fail with properties.ErrClosed. The key belongs
// to the Resource Monitor and stays open.
func (s *KeyStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// keyTx is one transaction of a KeyStore.
type keyTx struct {
	s        *KeyStore
	writable bool
	done     bool
	// pending holds the namespaces this Update wrote, each whole (an empty
	// Values removes every value).
	pending map[properties.Namespace]properties.Values
}

func (t *keyTx) end() { t.done = true }

func (t *keyTx) check(resource string) error {
	if t.done {
		return fmt.Errorf("wsfc: key store transaction used after it ended: %w", properties.ErrInvalid)
	}
	if resource != t.s.resource {
		return fmt.Errorf("wsfc: the key store of %q cannot hold resource %q: %w", t.s.resource, resource, properties.ErrInvalid)
	}
	return nil
}

func (t *keyTx) Get(resource string, ns properties.Namespace) (properties.Values, error) {
	if err := t.check(resource); err != nil {
		return properties.Values{}, err
	}
	if v, ok := t.pending[ns]; ok {
		return v.Clone(), nil
	}
	return t.read(ns)
}

// read decodes the values of subkey ns.
func (t *keyTx) read(ns properties.Namespace) (properties.Values, error) {
	var vals properties.Values
	kvs, err := t.s.key.ReadSubkey(string(ns))
	if err != nil {
		return vals, fmt.Errorf("wsfc: reading %s of %q from the cluster database: %w", ns, t.s.resource, err)
	}
	for _, kv := range kvs {
		if kv.Type != RegBinary {
			return properties.Values{}, fmt.Errorf("wsfc: value %q of %s of %q has registry type %d, not REG_BINARY: %w", kv.Name, ns, t.s.resource, kv.Type, properties.ErrCorrupt)
		}
		v, err := properties.UnmarshalValue(kv.Data)
		if err != nil {
			return properties.Values{}, fmt.Errorf("wsfc: value %q of %s of %q: %w", kv.Name, ns, t.s.resource, err)
		}
		if err := vals.Set(kv.Name, v); err != nil {
			return properties.Values{}, fmt.Errorf("wsfc: value %q of %s of %q: %v: %w", kv.Name, ns, t.s.resource, err, properties.ErrCorrupt)
		}
	}
	return vals, nil
}

func (t *keyTx) Put(resource string, ns properties.Namespace, vals properties.Values) error {
	if err := t.check(resource); err != nil {
		return err
	}
	if !t.writable {
		return fmt.Errorf("wsfc: Put in a read-only transaction: %w", properties.ErrInvalid)
	}
	if err := properties.CheckPut(resource, ns, vals); err != nil {
		return err
	}
	t.pending[ns] = vals.Clone()
	return nil
}

func (t *keyTx) Delete(resource string) error {
	if err := t.check(resource); err != nil {
		return err
	}
	if !t.writable {
		return fmt.Errorf("wsfc: Delete in a read-only transaction: %w", properties.ErrInvalid)
	}
	for _, ns := range t.s.namespaces {
		t.pending[ns] = properties.Values{}
	}
	for ns := range t.pending {
		t.pending[ns] = properties.Values{}
	}
	return nil
}

func (t *keyTx) Resources(ns properties.Namespace) ([]string, error) {
	if t.done {
		return nil, fmt.Errorf("wsfc: key store transaction used after it ended: %w", properties.ErrInvalid)
	}
	vals, err := t.Get(t.s.resource, ns)
	if err != nil {
		return nil, err
	}
	if vals.Len() == 0 {
		return []string{}, nil
	}
	return []string{t.s.resource}, nil
}

// batch turns the pending namespaces into changes against what is stored:
// first the stored names no longer present deleted, then every value set.
// Registry names match without regard to case, so a name kept under another
// spelling is set, never deleted.
func (t *keyTx) batch() ([]KeyChange, error) {
	nss := make([]properties.Namespace, 0, len(t.pending))
	for ns := range t.pending {
		nss = append(nss, ns)
	}
	slices.Sort(nss)
	var batch []KeyChange
	for _, ns := range nss {
		stored, err := t.s.key.ReadSubkey(string(ns))
		if err != nil {
			return nil, fmt.Errorf("wsfc: reading %s of %q from the cluster database: %w", ns, t.s.resource, err)
		}
		vals := t.pending[ns]
		keep := map[string]bool{}
		for _, name := range vals.Names() {
			keep[strings.ToLower(name)] = true
		}
		for _, kv := range stored {
			if !keep[strings.ToLower(kv.Name)] {
				batch = append(batch, KeyChange{Subkey: string(ns), Name: kv.Name, Delete: true})
			}
		}
		for _, name := range vals.Names() {
			v, _ := vals.Get(name)
			rec, err := properties.MarshalValue(v)
			if err != nil {
				return nil, fmt.Errorf("wsfc: property %q of %q: %w", name, t.s.resource, err)
			}
			batch = append(batch, KeyChange{Subkey: string(ns), Name: name, Data: rec})
		}
	}
	return batch, nil
}
