package monitor

import (
	"fmt"
	"testing"

	"pgregory.net/rapid"
)

// TestIndexActsAsAMap: any sequence of adds and removes leaves index
// holding what a map would, found by get and yielded once each by all.
func TestIndexActsAsAMap(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var x index
		want := map[string]*entry{}
		// A small universe of names, so that the sequence removes and
		// re-adds, and probe runs collide and wrap round the table.
		name := rapid.Custom(func(t *rapid.T) string { return fmt.Sprint("r", rapid.IntRange(0, 40).Draw(t, "n")) })
		for range rapid.IntRange(0, 300).Draw(t, "steps") {
			n := name.Draw(t, "name")
			if rapid.Bool().Draw(t, "add") {
				if want[n] == nil {
					e := &entry{name: n}
					x.add(e)
					want[n] = e
				}
			} else {
				x.remove(n)
				delete(want, n)
			}
			if x.len() != len(want) {
				t.Fatalf("len %d, want %d", x.len(), len(want))
			}
			for i := range 41 {
				k := fmt.Sprint("r", i)
				if got := x.get(k); got != want[k] {
					t.Fatalf("get(%q) = %p, want %p", k, got, want[k])
				}
			}
			seen := map[*entry]bool{}
			for e := range x.all() {
				if seen[e] || want[e.name] != e {
					t.Fatalf("all yielded %q twice or not held", e.name)
				}
				seen[e] = true
			}
			if len(seen) != len(want) {
				t.Fatalf("all yielded %d, want %d", len(seen), len(want))
			}
		}
	})
}

func TestIndexZeroValue(t *testing.T) {
	var x index
	x.remove("a")
	if x.get("a") != nil || x.len() != 0 {
		t.Fatal("a zero index holds something")
	}
	for range x.all() {
		t.Fatal("a zero index yields something")
	}
}

// BenchmarkIndexBytes reports the bytes per entry of the index and of a
// map[string]*entry at 100 000 entries (issue 10).
func BenchmarkIndexBytes(b *testing.B) {
	const n = 100_000
	es := make([]*entry, n)
	for i := range es {
		es[i] = &entry{name: fmt.Sprint("r", i)}
	}
	b.Run("index", func(b *testing.B) {
		for range b.N {
			var x index
			for _, e := range es {
				x.add(e)
			}
			b.ReportMetric(float64(9*len(x.slots))/n, "B/entry")
		}
	})
	b.Run("get", func(b *testing.B) {
		var x index
		for _, e := range es {
			x.add(e)
		}
		b.ResetTimer()
		for i := range b.N {
			if x.get(es[i%n].name) == nil {
				b.Fatal("lost")
			}
		}
	})
}
