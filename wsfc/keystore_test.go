package wsfc

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/properties/storetest"
)

// memKey is a Key in memory: subkeys of values, names compared without
// regard to case, as the registry compares them.
type memKey struct {
	mu      sync.Mutex
	subkeys map[string]map[string]KeyValue // by lower-case subkey, lower-case name
	fail    error                          // Commit fails with it
	commits int
}

func newMemKey() *memKey { return &memKey{subkeys: map[string]map[string]KeyValue{}} }

func (k *memKey) ReadSubkey(subkey string) ([]KeyValue, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	sk, ok := k.subkeys[strings.ToLower(subkey)]
	if !ok {
		return nil, nil
	}
	var out []KeyValue
	for _, n := range slices.Sorted(maps.Keys(sk)) {
		kv := sk[n]
		out = append(out, KeyValue{Name: kv.Name, Type: kv.Type, Data: slices.Clone(kv.Data)})
	}
	return out, nil
}

func (k *memKey) Commit(batch []KeyChange) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.fail != nil {
		return k.fail
	}
	k.commits++
	for _, c := range batch {
		sk := k.subkeys[strings.ToLower(c.Subkey)]
		if sk == nil {
			sk = map[string]KeyValue{}
			k.subkeys[strings.ToLower(c.Subkey)] = sk
		}
		if c.Delete {
			delete(sk, strings.ToLower(c.Name))
			continue
		}
		sk[strings.ToLower(c.Name)] = KeyValue{Name: c.Name, Type: RegBinary, Data: slices.Clone(c.Data)}
	}
	return nil
}

func (k *memKey) set(subkey, name string, typ uint32, data []byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	sk := k.subkeys[strings.ToLower(subkey)]
	if sk == nil {
		sk = map[string]KeyValue{}
		k.subkeys[strings.ToLower(subkey)] = sk
	}
	sk[strings.ToLower(name)] = KeyValue{Name: name, Type: typ, Data: data}
}

func ksPut(t *testing.T, s properties.Store, ns properties.Namespace, v properties.Values) {
	t.Helper()
	if err := s.Update(context.Background(), func(tx properties.Tx) error { return tx.Put("res", ns, v) }); err != nil {
		t.Fatal(err)
	}
}

func ksGet(t *testing.T, s properties.Store, ns properties.Namespace) properties.Values {
	t.Helper()
	var v properties.Values
	if err := s.View(context.Background(), func(tx properties.Tx) error {
		var err error
		v, err = tx.Get("res", ns)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return v
}

// Every kind is stored exactly, in the namespace's subkey, as REG_BINARY
// records; a Put replaces the namespace (R53).
func TestKeyStoreRoundTrip(t *testing.T) {
	key := newMemKey()
	s := NewKeyStore("res", key)
	all := storetest.AllKinds()
	ksPut(t, s, properties.Parameters, all)
	if got := ksGet(t, s, properties.Parameters); !got.Equal(all) {
		t.Errorf("read back %v, want %v", got, all)
	}
	kvs, _ := key.ReadSubkey("Parameters")
	if len(kvs) != all.Len() {
		t.Fatalf("the Parameters subkey holds %d values, want %d", len(kvs), all.Len())
	}
	for _, kv := range kvs {
		if kv.Type != RegBinary {
			t.Errorf("value %q has type %d, want REG_BINARY", kv.Name, kv.Type)
		}
	}
	ksPut(t, s, properties.Parameters, mustValues(t, map[string]any{"Only": "this"}))
	if got := ksGet(t, s, properties.Parameters); got.Len() != 1 || !got.Has("Only") {
		t.Errorf("after a replacing Put: %v", got.Names())
	}
	if kvs, _ := key.ReadSubkey("Parameters"); len(kvs) != 1 {
		t.Errorf("the subkey holds %d values after the replacing Put, want 1", len(kvs))
	}
	ksPut(t, s, properties.Common, mustValues(t, map[string]any{"Only": uint32(3)}))
	if v, _ := ksGet(t, s, properties.Parameters).GetString("Only"); v != "this" {
		t.Error("namespaces are not apart")
	}
	var res []string
	_ = s.View(context.Background(), func(tx properties.Tx) error {
		res, _ = tx.Resources(properties.Parameters)
		return nil
	})
	if !slices.Equal(res, []string{"res"}) {
		t.Errorf("Resources = %q", res)
	}
}

// A new spelling of a stored name replaces it; the registry's names match
// without regard to case, so it must not be deleted after being set.
func TestKeyStoreRespelling(t *testing.T) {
	key := newMemKey()
	s := NewKeyStore("res", key)
	ksPut(t, s, properties.Parameters, mustValues(t, map[string]any{"port": uint32(1)}))
	ksPut(t, s, properties.Parameters, mustValues(t, map[string]any{"Port": uint32(2)}))
	if v, err := ksGet(t, s, properties.Parameters).GetUint32("Port"); err != nil || v != 2 {
		t.Errorf("Port = %d, %v; want 2", v, err)
	}
}

// An Update that fails, panics or whose commit fails changes nothing (R53).
func TestKeyStoreAllOrNothing(t *testing.T) {
	key := newMemKey()
	s := NewKeyStore("res", key)
	ksPut(t, s, properties.Parameters, mustValues(t, map[string]any{"A": "old"}))
	boom := errors.New("boom")
	err := s.Update(context.Background(), func(tx properties.Tx) error {
		_ = tx.Put("res", properties.Parameters, mustValues(t, map[string]any{"A": "new"}))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("Update = %v, want the function's error", err)
	}
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want the function's panic", r)
			}
		}()
		_ = s.Update(context.Background(), func(tx properties.Tx) error {
			_ = tx.Put("res", properties.Parameters, mustValues(t, map[string]any{"A": "new"}))
			panic("boom")
		})
	}()
	key.fail = errors.New("cluster database unavailable")
	err = s.Update(context.Background(), func(tx properties.Tx) error {
		return tx.Put("res", properties.Parameters, mustValues(t, map[string]any{"A": "new"}))
	})
	if !errors.Is(err, key.fail) {
		t.Errorf("Update with a failing commit = %v", err)
	}
	key.fail = nil
	if v, _ := ksGet(t, s, properties.Parameters).GetString("A"); v != "old" {
		t.Errorf("A = %q after failed Updates, want old", v)
	}
}

// Delete empties the resource's namespaces and nothing else of its key.
func TestKeyStoreDelete(t *testing.T) {
	key := newMemKey()
	key.set("", "Name", 1, []byte("n\x00")) // the cluster's own value of the resource key
	key.set("Other", "X", 4, []byte{1, 0, 0, 0})
	s := NewKeyStore("res", key)
	ksPut(t, s, properties.Parameters, mustValues(t, map[string]any{"A": "1"}))
	ksPut(t, s, properties.Parameters.Sync(), mustValues(t, map[string]any{"State": "pending"}))
	if err := s.Update(context.Background(), func(tx properties.Tx) error { return tx.Delete("res") }); err != nil {
		t.Fatal(err)
	}
	for _, ns := range []properties.Namespace{properties.Parameters, properties.Parameters.Sync()} {
		if v := ksGet(t, s, ns); v.Len() != 0 {
			t.Errorf("%s holds %v after Delete", ns, v.Names())
		}
	}
	if kvs, _ := key.ReadSubkey("Other"); len(kvs) != 1 {
		t.Error("Delete touched a subkey that is not the store's")
	}
	if kvs, _ := key.ReadSubkey(""); len(kvs) != 1 {
		t.Error("Delete touched the resource key's own values")
	}
}

// Damaged values are reported as ErrCorrupt (R56); other resources, read-only
// writes and a closed store are refused.
func TestKeyStoreRefusals(t *testing.T) {
	key := newMemKey()
	s := NewKeyStore("res", key)
	rec, _ := properties.MarshalValue("fine")
	for name, kv := range map[string]KeyValue{
		"a REG_SZ value":     {Name: "Text", Type: 1, Data: []byte("x\x00")},
		"a damaged record":   {Name: "Bad", Type: RegBinary, Data: append(slices.Clone(rec[:len(rec)-1]), rec[len(rec)-1]^0xFF)},
		"a truncated record": {Name: "Short", Type: RegBinary, Data: rec[:3]},
	} {
		k := newMemKey()
		k.set("Parameters", kv.Name, kv.Type, kv.Data)
		err := NewKeyStore("res", k).View(context.Background(), func(tx properties.Tx) error {
			_, err := tx.Get("res", properties.Parameters)
			return err
		})
		if !errors.Is(err, properties.ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
	err := s.Update(context.Background(), func(tx properties.Tx) error {
		return tx.Put("someone else", properties.Parameters, mustValues(t, map[string]any{"A": "1"}))
	})
	if !errors.Is(err, properties.ErrInvalid) {
		t.Errorf("Put of another resource = %v, want ErrInvalid", err)
	}
	err = s.View(context.Background(), func(tx properties.Tx) error {
		return tx.Put("res", properties.Parameters, mustValues(t, map[string]any{"A": "1"}))
	})
	if !errors.Is(err, properties.ErrInvalid) {
		t.Errorf("Put in a View = %v, want ErrInvalid", err)
	}
	var kept properties.Tx
	_ = s.View(context.Background(), func(tx properties.Tx) error { kept = tx; return nil })
	if _, err := kept.Get("res", properties.Parameters); err == nil {
		t.Error("a Tx used after its View ended")
	}
	err = s.Update(context.Background(), func(tx properties.Tx) error {
		return tx.Put("res", properties.Parameters, mustValues(t, map[string]any{strings.Repeat("p", properties.MaxNameLength+1): "1"}))
	})
	if !errors.Is(err, properties.ErrInvalid) {
		t.Errorf("a name too long = %v, want ErrInvalid (R59)", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.View(ctx, func(properties.Tx) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("View with a cancelled context = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.View(context.Background(), func(properties.Tx) error { return nil }); !errors.Is(err, properties.ErrClosed) {
		t.Errorf("View after Close = %v, want ErrClosed", err)
	}
	if key.commits != 0 {
		t.Errorf("%d commits, want none", key.commits)
	}
}

// A Manager over a KeyStore: the set path of the DLL, with its sync mark in
// the same commit (R53, R54).
func TestKeyStoreUnderManager(t *testing.T) {
	key := newMemKey()
	mgr, err := properties.NewManager(properties.Options{Store: NewKeyStore("res", key), Schema: testSchema,
		Hook: hookFunc(func(context.Context, string, properties.Values) error { return errors.New("app down") })})
	if err != nil {
		t.Fatal(err)
	}
	res, err := mgr.Set(context.Background(), "res", mustValues(t, map[string]any{"Port": uint32(99)}), properties.SetOptions{})
	if err != nil || !errors.Is(res.Err(), properties.ErrOutOfSync) {
		t.Fatalf("Set = %v, %v; want stored and out of sync", res.Err(), err)
	}
	st, err := mgr.Status(context.Background(), "res")
	if err != nil || !st.OutOfSync {
		t.Errorf("Status = %+v, %v; want out of sync", st, err)
	}
	if v, _ := mgr.Effective(context.Background(), "res"); !v.Has("Comment") {
		t.Error("Effective lacks the defaults")
	}
}

type hookFunc func(context.Context, string, properties.Values) error

func (f hookFunc) Push(ctx context.Context, r string, v properties.Values) error { return f(ctx, r, v) }
