package wrapper

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/resdll/resdll/resource"
	"github.com/stretchr/testify/assert"
)

// lateError reads as the fmt.Errorf it replaced did, and wraps its sentinel
// (R11, R14, R16, R21).
func TestLateErrorReadsAsBefore(t *testing.T) {
	d := 1500 * time.Millisecond
	for _, tc := range []struct {
		err  *lateError
		want error
	}{
		{&lateError{err: resource.ErrPendingTimeout, d: d, op: resource.OpOnline},
			fmt.Errorf("%v did not return within %v: %w", resource.OpOnline, d, resource.ErrPendingTimeout)},
		{&lateError{err: resource.ErrPendingTimeout, d: d, op: resource.OpOffline, noTerm: true},
			fmt.Errorf("%w; the resource has no Terminator", fmt.Errorf("%v did not return within %v: %w", resource.OpOffline, d, resource.ErrPendingTimeout))},
		{&lateError{err: resource.ErrWorkerStuck, d: d, op: resource.OpOnline, wait: true},
			fmt.Errorf("%v waited %v for an abandoned call to return: %w", resource.OpOnline, d, resource.ErrWorkerStuck)},
		{&lateError{err: resource.ErrWorkerStuck, d: d, op: resource.OpOffline, wait: true, noTerm: true},
			fmt.Errorf("%w; the resource has no Terminator", fmt.Errorf("%v waited %v for an abandoned call to return: %w", resource.OpOffline, d, resource.ErrWorkerStuck))},
		{&lateError{err: resource.ErrPendingTimeout, d: d, op: resource.OpTerminate},
			fmt.Errorf("Terminate did not return within %v: %w", d, resource.ErrPendingTimeout)},
		{&lateError{err: resource.ErrCheckTimeout, d: d, op: resource.OpIsAlive},
			fmt.Errorf("%v did not return within %v: %w", resource.OpIsAlive, d, resource.ErrCheckTimeout)},
	} {
		assert.Equal(t, tc.want.Error(), tc.err.Error())
		assert.ErrorIs(t, tc.err, tc.err.err)
		assert.True(t, errors.Is(tc.want, tc.err.err))
	}
}

// An acts array given back keeps nothing its actions pointed to (issue 10:
// the arrays are pooled), and one that grew out of its array is not given
// back.
func TestActsFreeForgets(t *testing.T) {
	var a acts
	ev := &resource.Event{}
	a.add(action{kind: actEmit, ev: ev})
	a.add(action{kind: actCancel, call: &call{}})
	arr := (*[actsLen]action)(a[:actsLen])
	a.free()
	if *arr != ([actsLen]action{}) {
		t.Fatalf("a freed array still holds %+v", *arr)
	}
	var big acts
	for range actsLen + 1 {
		big.add(action{kind: actEmit, ev: ev})
	}
	big.free()
	if big[actsLen].ev != ev {
		t.Fatal("a grown array was cleared")
	}
}
