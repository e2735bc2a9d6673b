package faulttest

import (
	"testing"

	"github.com/resdll/resdll/resource"
)

// R2: the fault suites' list of legal transitions and the table the
// wrapper runs on (resource.Next) agree, pair by pair. Where they differ,
// one of them departs from CONTRACT.md.
func TestLegalMoveAgreesWithNext(t *testing.T) {
	for _, from := range resource.States() {
		for _, to := range resource.States() {
			byNext := false
			for _, in := range resource.Inputs() {
				if got, err := resource.Next(from, in); err == nil && got == to && from != to {
					byNext = true
				}
			}
			if from == resource.Unknown && to == resource.Offline {
				byNext = true // Open: a new wrapper starts Offline, outside the table
			}
			if got := LegalMove(from, to); got != byNext {
				t.Errorf("%v → %v: LegalMove says %v, resource.Next allows it: %v", from, to, got, byNext)
			}
		}
	}
}
