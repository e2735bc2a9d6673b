package resourcetest

import "time"

// More behaviours, for health checks that go bad over time and for long
// fault schedules.

// FailFrom succeeds until the fake's clock reaches at, then returns err:
// a health check that starts failing at a given moment.
func FailFrom(at time.Time, err error) Behaviour { return Behaviour{kind: kFailFrom, at: at, err: err} }

// Flap alternates on the fake's clock: it succeeds for period, fails with
// err for period, and so on, counting from start. A flapping resource.
func Flap(start time.Time, period time.Duration, err error) Behaviour {
	return Behaviour{kind: kFlap, at: start, d: period, err: err}
}

// Repeat returns n copies of b, for long scripts.
func Repeat(n int, b Behaviour) []Behaviour {
	out := make([]Behaviour, n)
	for i := range out {
		out[i] = b
	}
	return out
}
