// Package storetest checks a [properties.Store] implementation against the
// Store contract (CONTRACT R53, R56, R57, R59), as testing/fstest checks an
// fs.FS: one subtest per duty, named for it, each failure saying what to
// fix.
package storetest

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/resdll/resdll/properties"
)

// Run checks the Store that open returns; open is called once per subtest
// and must return a new, empty store. Run closes each store it opened.
func Run(t *testing.T, open func(t *testing.T) properties.Store) {
	t.Helper()
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			s := open(t)
			defer func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			}()
			c.run(t, s)
		})
	}
}

type testCase struct {
	name string
	run  func(t *testing.T, s properties.Store)
}

// AllKinds returns one set of values of every kind, edge values included:
// an int64 near 2^63, a uint64 above 2^63, the extreme durations, binary
// with NUL bytes, empty text and an empty multi-string.
func AllKinds() properties.Values {
	v, err := properties.NewValues(map[string]any{
		"String":      "Exchange \u00e9 \u65e5\u672c",
		"Empty":       "",
		"MultiString": []string{"smtp", "", "imap"},
		"NoStrings":   []string{},
		"Int64Max":    int64(math.MaxInt64 - 1),
		"Int64Min":    int64(math.MinInt64),
		"Uint32":      uint32(math.MaxUint32),
		"Uint64":      uint64(1<<63 + 12345),
		"Bool":        true,
		"False":       false,
		"Duration":    90*time.Second + 1,
		"DurationMin": time.Duration(math.MinInt64),
		"Binary":      []byte{0, 1, 2, 0xff, 0},
		"NoBytes":     []byte{},
	})
	if err != nil {
		panic(err) // unreachable: the values above are of the kinds
	}
	return v
}

func get(t *testing.T, s properties.Store, resource string, ns properties.Namespace) properties.Values {
	t.Helper()
	var v properties.Values
	if err := s.View(context.Background(), func(tx properties.Tx) error {
		var err error
		v, err = tx.Get(resource, ns)
		return err
	}); err != nil {
		t.Fatalf("View Get(%q, %q): %v", resource, ns, err)
	}
	return v
}

func put(t *testing.T, s properties.Store, resource string, ns properties.Namespace, v properties.Values) {
	t.Helper()
	if err := s.Update(context.Background(), func(tx properties.Tx) error { return tx.Put(resource, ns, v) }); err != nil {
		t.Fatalf("Update Put(%q, %q): %v", resource, ns, err)
	}
}

func mustValues(m map[string]any) properties.Values {
	v, err := properties.NewValues(m)
	if err != nil {
		panic(err)
	}
	return v
}

// cases lists the duties, one subtest each.
func cases() []testCase {
	return []testCase{
		{"EmptyStore", func(t *testing.T, s properties.Store) {
			if v := get(t, s, "r", properties.Parameters); v.Len() != 0 {
				t.Errorf("Get on an empty store = %v, want no values", v.Names())
			}
			_ = s.View(context.Background(), func(tx properties.Tx) error {
				names, err := tx.Resources(properties.Parameters)
				if err != nil || len(names) != 0 {
					t.Errorf("Resources on an empty store = %v, %v; want none, nil", names, err)
				}
				return nil
			})
		}},
		{"R50/EveryKindRoundTrips", func(t *testing.T, s properties.Store) {
			put(t, s, "r", properties.Parameters, AllKinds())
			got := get(t, s, "r", properties.Parameters)
			if !got.Equal(AllKinds()) {
				t.Errorf("Get after Put = %v, want %v: every kind must come back exact", got, AllKinds())
			}
			for _, name := range AllKinds().Names() {
				want, _ := AllKinds().Get(name)
				have, _ := got.Get(name)
				wk, _ := properties.KindOf(want)
				hk, _ := properties.KindOf(have)
				if wk != hk {
					t.Errorf("%s came back as %v, want %v", name, hk, wk)
				}
			}
		}},
		{"R53/NamespacesAreSeparate", func(t *testing.T, s properties.Store) {
			put(t, s, "r", properties.Parameters, mustValues(map[string]any{"Port": uint32(25)}))
			put(t, s, "r", properties.Common, mustValues(map[string]any{"Port": "other"}))
			if v, _ := get(t, s, "r", properties.Parameters).GetUint32("Port"); v != 25 {
				t.Errorf("Parameters Port = %v after a Put in Common, want 25", v)
			}
			if v, _ := get(t, s, "r", properties.Common).GetString("Port"); v != "other" {
				t.Errorf("Common Port = %q, want other", v)
			}
			if v := get(t, s, "other", properties.Parameters); v.Len() != 0 {
				t.Errorf("another resource sees %v", v.Names())
			}
		}},
		{"R53/PutReplacesTheNamespace", func(t *testing.T, s properties.Store) {
			put(t, s, "r", properties.Parameters, mustValues(map[string]any{"A": "1", "B": "2"}))
			put(t, s, "r", properties.Parameters, mustValues(map[string]any{"B": "3"}))
			got := get(t, s, "r", properties.Parameters)
			if !got.Equal(mustValues(map[string]any{"B": "3"})) {
				t.Errorf("after two Puts: %v, want only B=3 (Put replaces all values of the namespace)", got)
			}
		}},
		{"PutEmptyRemoves", func(t *testing.T, s properties.Store) {
			put(t, s, "r", properties.Parameters, mustValues(map[string]any{"A": "1"}))
			put(t, s, "r", properties.Common, mustValues(map[string]any{"A": "1"}))
			put(t, s, "r", properties.Parameters, properties.Values{})
			if v := get(t, s, "r", properties.Parameters); v.Len() != 0 {
				t.Errorf("after Put of no values: %v, want none", v.Names())
			}
			_ = s.View(context.Background(), func(tx properties.Tx) error {
				p, _ := tx.Resources(properties.Parameters)
				c, _ := tx.Resources(properties.Common)
				if len(p) != 0 || !slices.Equal(c, []string{"r"}) {
					t.Errorf("Resources(Parameters) = %v, Resources(Common) = %v; want [], [r]", p, c)
				}
				return nil
			})
		}},
		{"DeleteRemovesEveryNamespace", func(t *testing.T, s properties.Store) {
			put(t, s, "r", properties.Parameters, mustValues(map[string]any{"A": "1"}))
			put(t, s, "r", properties.Common, mustValues(map[string]any{"A": "1"}))
			put(t, s, "keep", properties.Common, mustValues(map[string]any{"A": "1"}))
			if err := s.Update(context.Background(), func(tx properties.Tx) error {
				if err := tx.Delete("r"); err != nil {
					return err
				}
				return tx.Delete("never-stored")
			}); err != nil {
				t.Fatalf("Delete: %v (deleting a resource with nothing stored must succeed)", err)
			}
			if get(t, s, "r", properties.Parameters).Len()+get(t, s, "r", properties.Common).Len() != 0 {
				t.Error("Delete left values behind")
			}
			if get(t, s, "keep", properties.Common).Len() != 1 {
				t.Error("Delete removed another resource's values")
			}
		}},
		{"ResourcesSorted", func(t *testing.T, s properties.Store) {
			for _, r := range []string{"b", "a", "C"} {
				put(t, s, r, properties.Parameters, mustValues(map[string]any{"A": "1"}))
			}
			_ = s.View(context.Background(), func(tx properties.Tx) error {
				got, err := tx.Resources(properties.Parameters)
				if err != nil || !slices.Equal(got, []string{"C", "a", "b"}) {
					t.Errorf("Resources = %v, %v; want [C a b] (sorted by bytes)", got, err)
				}
				return nil
			})
		}},
		{"R53/FailedUpdateChangesNothing", func(t *testing.T, s properties.Store) {
			put(t, s, "r", properties.Parameters, mustValues(map[string]any{"A": "old"}))
			boom := errors.New("boom")
			err := s.Update(context.Background(), func(tx properties.Tx) error {
				if err := tx.Put("r", properties.Parameters, mustValues(map[string]any{"A": "new"})); err != nil {
					return err
				}
				if err := tx.Put("r2", properties.Common, mustValues(map[string]any{"A": "new"})); err != nil {
					return err
				}
				if err := tx.Delete("r"); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Errorf("Update = %v, want the function's error", err)
			}
			if v, _ := get(t, s, "r", properties.Parameters).GetString("A"); v != "old" {
				t.Errorf("after a failed Update A = %q, want old: a failed Update must change nothing", v)
			}
			if get(t, s, "r2", properties.Common).Len() != 0 {
				t.Error("a failed Update created a resource")
			}
		}},
		{"R53/PanickingUpdateChangesNothing", func(t *testing.T, s properties.Store) {
			put(t, s, "r", properties.Parameters, mustValues(map[string]any{"A": "old"}))
			func() {
				defer func() {
					if r := recover(); r != "boom" {
						t.Errorf("recovered %v, want the function's own panic to reach the caller", r)
					}
				}()
				_ = s.Update(context.Background(), func(tx properties.Tx) error {
					_ = tx.Put("r", properties.Parameters, mustValues(map[string]any{"A": "new"}))
					panic("boom")
				})
			}()
			if v, _ := get(t, s, "r", properties.Parameters).GetString("A"); v != "old" {
				t.Errorf("after a panicking Update A = %q, want old", v)
			}
			put(t, s, "r", properties.Parameters, mustValues(map[string]any{"A": "after"})) // the store still works
		}},
		{"UpdateSeesItsOwnWrites", func(t *testing.T, s properties.Store) {
			_ = s.Update(context.Background(), func(tx properties.Tx) error {
				_ = tx.Put("r", properties.Parameters, mustValues(map[string]any{"A": "1"}))
				v, err := tx.Get("r", properties.Parameters)
				if err != nil || !v.Has("A") {
					t.Errorf("Get in the Update that Put = %v, %v; want A", v.Names(), err)
				}
				return nil
			})
		}},
		{"R59/PutRefusesBadInput", func(t *testing.T, s properties.Store) {
			big := make([]byte, properties.MaxValueSize+1)
			bad := []struct {
				what     string
				resource string
				ns       properties.Namespace
				vals     properties.Values
			}{
				{"empty resource name", "", properties.Parameters, mustValues(map[string]any{"A": "1"})},
				{"resource name too long", strings.Repeat("r", properties.MaxResourceNameLength+1), properties.Parameters, mustValues(map[string]any{"A": "1"})},
				{"unprintable resource name", "r\x00", properties.Parameters, mustValues(map[string]any{"A": "1"})},
				{"empty namespace", "r", "", mustValues(map[string]any{"A": "1"})},
				{"property name too long", "r", properties.Parameters, mustValues(map[string]any{strings.Repeat("p", properties.MaxNameLength+1): "1"})},
				{"value too large", "r", properties.Parameters, mustValues(map[string]any{"A": big})},
			}
			for _, b := range bad {
				err := s.Update(context.Background(), func(tx properties.Tx) error { return tx.Put(b.resource, b.ns, b.vals) })
				if !errors.Is(err, properties.ErrInvalid) {
					t.Errorf("Put with %s = %v, want an error wrapping ErrInvalid (R59)", b.what, err)
				}
			}
			_ = s.View(context.Background(), func(tx properties.Tx) error {
				for _, ns := range []properties.Namespace{properties.Parameters, ""} {
					if names, _ := tx.Resources(ns); len(names) != 0 {
						t.Errorf("refused Puts stored %v", names)
					}
				}
				return nil
			})
		}},
		{"ViewIsReadOnly", func(t *testing.T, s properties.Store) {
			_ = s.View(context.Background(), func(tx properties.Tx) error {
				if err := tx.Put("r", properties.Parameters, mustValues(map[string]any{"A": "1"})); err == nil {
					t.Error("Put in a View succeeded")
				}
				if err := tx.Delete("r"); err == nil {
					t.Error("Delete in a View succeeded")
				}
				return nil
			})
			if get(t, s, "r", properties.Parameters).Len() != 0 {
				t.Error("a View wrote")
			}
		}},
		{"TxUnusableAfterItEnds", func(t *testing.T, s properties.Store) {
			var kept properties.Tx
			_ = s.Update(context.Background(), func(tx properties.Tx) error { kept = tx; return nil })
			if err := kept.Put("r", properties.Parameters, mustValues(map[string]any{"A": "1"})); err == nil {
				t.Error("Put on an ended transaction succeeded")
			}
			if _, err := kept.Get("r", properties.Parameters); err == nil {
				t.Error("Get on an ended transaction succeeded")
			}
		}},
		{"ValuesAreTheCallers", func(t *testing.T, s properties.Store) {
			in := mustValues(map[string]any{"B": []byte{1, 2}})
			put(t, s, "r", properties.Parameters, in)
			_ = in.Set("B", []byte{9})
			got := get(t, s, "r", properties.Parameters)
			_ = got.Set("B", []byte{8})
			if b, _ := get(t, s, "r", properties.Parameters).GetBinary("B"); !slices.Equal(b, []byte{1, 2}) {
				t.Errorf("B = %v, want [1 2]: the store must not share Values with callers", b)
			}
		}},
		{"CancelledContext", func(t *testing.T, s properties.Store) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			called := false
			if err := s.Update(ctx, func(properties.Tx) error { called = true; return nil }); !errors.Is(err, context.Canceled) || called {
				t.Errorf("Update with a cancelled context = %v, called %v; want context.Canceled and no call", err, called)
			}
			if err := s.View(ctx, func(properties.Tx) error { called = true; return nil }); !errors.Is(err, context.Canceled) || called {
				t.Errorf("View with a cancelled context = %v, called %v", err, called)
			}
		}},
		{"R53/UpdatesAreIsolated", func(t *testing.T, s properties.Store) {
			const writers, each = 4, 25
			var wg sync.WaitGroup
			for range writers {
				wg.Go(func() {
					for range each {
						err := s.Update(context.Background(), func(tx properties.Tx) error {
							v, err := tx.Get("counter", properties.Parameters)
							if err != nil {
								return err
							}
							n, _ := v.GetUint64("N")
							return tx.Put("counter", properties.Parameters, mustValues(map[string]any{"N": n + 1}))
						})
						if err != nil {
							t.Errorf("Update: %v", err)
							return
						}
					}
				})
			}
			wg.Wait()
			if n, _ := get(t, s, "counter", properties.Parameters).GetUint64("N"); n != writers*each {
				t.Errorf("counter = %d after %d read-modify-write Updates, want %d: Updates must not interleave", n, writers*each, writers*each)
			}
		}},
		{"Closed", func(t *testing.T, s properties.Store) {
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := s.View(context.Background(), func(properties.Tx) error { return nil }); !errors.Is(err, properties.ErrClosed) {
				t.Errorf("View after Close = %v, want ErrClosed", err)
			}
			if err := s.Update(context.Background(), func(properties.Tx) error { return nil }); !errors.Is(err, properties.ErrClosed) {
				t.Errorf("Update after Close = %v, want ErrClosed", err)
			}
			// Run closes it once more: a second Close must return nil.
		}},
	}
}
