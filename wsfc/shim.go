package wsfc

import (
	"context"
	"fmt"
	"io"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
)

// shim is the author's resource as the host's wrapper sees it: each Online
// and Offline runs with a context whose resource.Progress also tells the host,
// which advances the checkpoint of its status reports (R13). Every other
// call is passed on as it is.
//
// The wrapper's behaviour depends on which optional interfaces a resource
// implements, so newShim gives the shim exactly the resource's LooksAliver,
// Terminator and PropertyOwner. Controller, io.Closer and FailureNotifier
// make no difference when absent (a Control answers ErrUnsupported either
// way, a Close does nothing, no report comes), so the shim always has them.
type shim struct {
	res resource.Resource
	// progressOf is called as a worker's Online or Offline starts; it
	// returns the function to call after each progress report of that
	// operation.
	progressOf func() func()
}

func (s *shim) Online(ctx context.Context) error  { return s.res.Online(s.hooked(ctx)) }
func (s *shim) Offline(ctx context.Context) error { return s.res.Offline(s.hooked(ctx)) }
func (s *shim) IsAlive(ctx context.Context) error { return s.res.IsAlive(ctx) }

func (s *shim) Control(ctx context.Context, code resource.ControlCode, in []byte) ([]byte, error) {
	c, ok := s.res.(resource.Controller)
	if !ok {
		return nil, fmt.Errorf("control code %#x: the resource has no control codes of its own: %w", uint32(code), resource.ErrUnsupported)
	}
	return c.Control(ctx, code, in)
}

func (s *shim) Close() error {
	if c, ok := s.res.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

func (s *shim) SetFailureReporter(report resource.ReportFunc) {
	if n, ok := s.res.(resource.FailureNotifier); ok {
		n.SetFailureReporter(report)
	}
}

// hooked returns ctx with worker hooks that pass each call on to the
// engine's hooks in ctx and then tell the host.
func (s *shim) hooked(ctx context.Context) context.Context {
	return resource.WithWorkerHooks(ctx, hooks{engine: ctx, progress: s.progressOf()})
}

// hooks chains the host's progress callback after the engine's hooks.
type hooks struct {
	engine   context.Context // the worker context the engine made, holding its hooks
	progress func()
}

func (h hooks) Progress() {
	resource.Progress(h.engine)
	h.progress()
}

func (h hooks) WaitWithoutTimeout() { resource.WaitWithoutTimeout(h.engine) }

// The optional interfaces that change the wrapper's behaviour.
type (
	looks struct{ l resource.LooksAliver }
	term  struct{ t resource.Terminator }
	owner struct{ o resource.PropertyOwner }
)

func (x looks) LooksAlive(ctx context.Context) error { return x.l.LooksAlive(ctx) }
func (x term) Terminate(ctx context.Context) error   { return x.t.Terminate(ctx) }
func (x owner) ApplyProperties(ctx context.Context, vals properties.Values) error {
	return x.o.ApplyProperties(ctx, vals)
}

// newShim wraps res, keeping exactly its LooksAliver, Terminator and
// PropertyOwner.
func newShim(res resource.Resource, progressOf func() func()) resource.Resource {
	s := &shim{res: res, progressOf: progressOf}
	l, isL := res.(resource.LooksAliver)
	t, isT := res.(resource.Terminator)
	o, isO := res.(resource.PropertyOwner)
	switch {
	case isL && isT && isO:
		return struct {
			*shim
			looks
			term
			owner
		}{s, looks{l}, term{t}, owner{o}}
	case isL && isT:
		return struct {
			*shim
			looks
			term
		}{s, looks{l}, term{t}}
	case isL && isO:
		return struct {
			*shim
			looks
			owner
		}{s, looks{l}, owner{o}}
	case isT && isO:
		return struct {
			*shim
			term
			owner
		}{s, term{t}, owner{o}}
	case isL:
		return struct {
			*shim
			looks
		}{s, looks{l}}
	case isT:
		return struct {
			*shim
			term
		}{s, term{t}}
	case isO:
		return struct {
			*shim
			owner
		}{s, owner{o}}
	}
	return s
}
