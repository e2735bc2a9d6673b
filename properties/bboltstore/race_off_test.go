//go:build !race

package bboltstore_test

// raceEnabled is true when the tests run under the race detector, which
// makes each crash point several times slower.
const raceEnabled = false
