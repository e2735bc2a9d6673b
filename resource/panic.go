package resource

import (
	"fmt"
	"runtime/debug"
)

// PanicError is the error an entry point's panic becomes (R6). It wraps
// [ErrPanic], and the panic value when that is an error.
//
// Only panics in the goroutine the engine runs the entry point in can be
// recovered: a panic in a goroutine the resource starts itself, a fatal
// runtime error (a concurrent map write, running out of memory) and os.Exit
// end the process, as they do in any Go program.
type PanicError struct {
	Op    Op     // the entry point that panicked
	Value any    // the value passed to panic
	Stack []byte // the goroutine's stack at the panic
}

// Error returns "resource: panic in entry point: Online: <value>" followed
// by nothing else; the stack is in the Stack field.
func (e *PanicError) Error() string {
	return fmt.Sprintf("%v: %v: %v", ErrPanic, e.Op, e.Value)
}

// Unwrap returns ErrPanic and, when the panic value is an error, that error.
func (e *PanicError) Unwrap() []error {
	if err, ok := e.Value.(error); ok {
		return []error{ErrPanic, err}
	}
	return []error{ErrPanic}
}

// Recover runs fn and turns a panic in it into a *[PanicError] for op
// carrying the value and the stack (R6). The engine runs every entry point
// through it.
func Recover(op Op, fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Op: op, Value: v, Stack: debug.Stack()}
		}
	}()
	return fn()
}
