package monitor

import (
	"slices"
	"testing"
	"time"
)

// R33: the failures and restarts in the window, kept sorted so that those
// which left it are a prefix — also when a clock set back records a time
// earlier than the last.
func TestWindowSorted(t *testing.T) {
	at := func(s int) time.Time { return time.Unix(int64(s), 0) }
	const period = 10 * time.Second
	tests := []struct {
		name     string
		recorded []int // seconds, in the order recorded
		now      int
		want     []int // what prune keeps, in order
	}{
		{"none", nil, 100, nil},
		{"all in the window", []int{95, 96, 99}, 100, []int{95, 96, 99}},
		{"a prefix expired", []int{80, 90, 91, 95}, 100, []int{91, 95}},
		{"exactly period ago is out", []int{90, 95}, 100, []int{95}},
		{"all expired", []int{1, 2, 3}, 100, nil},
		{"clock set back", []int{95, 99, 92, 85}, 100, []int{92, 95, 99}},
		{"most expired", []int{80, 81, 82, 95}, 100, []int{95}},
		{"later than now counts", []int{95, 120}, 100, []int{95, 120}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ts []time.Time
			for _, s := range tt.recorded {
				ts = record(ts, at(s))
			}
			if !slices.IsSortedFunc(ts, time.Time.Compare) {
				t.Fatalf("record(%v) = %v, not sorted", tt.recorded, ts)
			}
			now := at(tt.now)
			if n := inWindow(ts, now, period); n != len(tt.want) {
				t.Errorf("inWindow = %d, want %d", n, len(tt.want))
			}
			kept := prune(ts, now, period)
			var got []int
			for _, k := range kept {
				got = append(got, int(k.Unix()))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("prune(%v, %d) = %v, want %v", tt.recorded, tt.now, got, tt.want)
			}
		})
	}
}

// A short window keeps its array: a resource that fails now and then
// allocates nothing for its window (issue 10).
func TestWindowShortNoAlloc(t *testing.T) {
	const period = 10 * time.Second
	var ts []time.Time
	now := time.Unix(1000, 0)
	ts = record(prune(ts, now, period), now)
	allocs := testing.AllocsPerRun(100, func() {
		now = now.Add(time.Minute) // the last one has left the window
		ts = record(prune(ts, now, period), now)
	})
	if allocs != 0 || len(ts) != 1 {
		t.Errorf("a failure per minute in a %v window: %v allocations each, %d in the window; want 0 and 1", period, allocs, len(ts))
	}
}
