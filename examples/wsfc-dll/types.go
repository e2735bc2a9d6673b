package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/wsfc"
)

// The resource types this DLL serves.
const (
	// WebType is the quick-start's type (examples/quickstart): a resource
	// whose first health check fails, so the cluster restarts it once.
	WebType = "resdll Web"
	// ScriptedType is a type a test harness drives through the Resource
	// API: see scripted.
	ScriptedType = "resdll Scripted"
)

// web is the quick-start's resource (examples/quickstart is a main package,
// so its type is declared again here, unchanged): Online and Offline
// succeed at once, and its first IsAlive fails with "HTTP 503".
type web struct{ checks atomic.Int32 }

func (*web) Online(context.Context) error  { return nil }
func (*web) Offline(context.Context) error { return nil }
func (w *web) IsAlive(context.Context) error {
	if w.checks.Add(1) == 1 {
		return errors.New("HTTP 503")
	}
	return nil
}

// The scripted type's control codes (resource.Controller codes; the Windows
// codes are wsfc.UserControlCode of them: 0x01800004, 0x01800008,
// 0x0180000C).
const (
	// CtlStep lets a waiting Online take one step (see OnlineSteps).
	CtlStep = resource.FirstResourceControlCode + 1
	// CtlFail makes the resource report a failure through its
	// FailureNotifier, as a resource that sees its service die does
	// (R23): while Online the failure latches and the failure event is
	// signalled.
	CtlFail = resource.FirstResourceControlCode + 2
	// CtlPanic makes the control call panic, which the wrapper turns into
	// an error (R6).
	CtlPanic = resource.FirstResourceControlCode + 3
)

// scriptedSchema is the scripted type's private properties; the behaviour
// hints are OnlineSteps and HangOffline.
var scriptedSchema = properties.MustSchema(
	properties.Property{Name: "Port", Kind: properties.Uint32, Default: uint32(8080), Min: uint32(1), Max: uint32(65535),
		Description: "TCP port", Help: "Not reloadable: a change while Online takes effect at the next Online."},
	properties.Property{Name: "Comment", Kind: properties.String, Default: "", Reloadable: true,
		Description: "free text"},
	properties.Property{Name: "Tags", Kind: properties.MultiString, Default: []string{"scripted"}, Reloadable: true,
		Description: "labels"},
	properties.Property{Name: "OnlineSteps", Kind: properties.Uint32, Default: uint32(0), Max: uint32(100), Reloadable: true,
		Description: "test hint: steps Online waits for",
		Help:        "Online waits for this many CtlStep controls, reporting progress (R13) after each, then succeeds."},
	properties.Property{Name: "HangOffline", Kind: properties.Bool, Default: false, Reloadable: true,
		Description: "test hint: Offline hangs",
		Help:        "Offline blocks until it is cancelled: by Terminate, or by the pending timeout's escalation (R16)."},
	properties.Property{Name: "Version", Kind: properties.String, Default: "1.0", ReadOnly: true,
		Description: "the type's version"},
)

// scripted is a resource whose behaviour a test harness sets through its
// private properties and control codes, so the Resource API can be
// exercised end to end: Online waits for OnlineSteps CtlStep controls;
// Offline hangs while HangOffline is true; CtlFail reports a failure;
// CtlPanic panics; and a resource whose name starts with "panic" makes the
// factory panic. It is for tests and demonstrations, not for a cluster.
type scripted struct {
	name   string
	report resource.ReportFunc // set once, before the first Online

	mu       sync.Mutex // guards what follows
	vals     properties.Values
	running  bool
	credits  int           // CtlStep controls not yet taken by an Online
	stepped  chan struct{} // capacity 1: tells a waiting Online a credit came
	cancel   chan struct{} // closed by Terminate: releases a hung Offline; new at each Online after that
	released bool          // cancel is closed
}

func newScripted(_ context.Context, name string, vals properties.Values) (resource.Resource, error) {
	if strings.HasPrefix(strings.ToLower(name), "panic") {
		panic(fmt.Sprintf("scripted: factory told to panic by the name %q", name))
	}
	return &scripted{name: name, vals: vals, stepped: make(chan struct{}, 1), cancel: make(chan struct{})}, nil
}

func (s *scripted) SetFailureReporter(report resource.ReportFunc) { s.report = report }

func (s *scripted) ApplyProperties(_ context.Context, vals properties.Values) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vals = vals
	return nil
}

func (s *scripted) Online(ctx context.Context) error {
	s.mu.Lock()
	steps, _ := s.vals.GetUint32("OnlineSteps")
	if s.released { // a new online period: a new Offline may hang again
		s.cancel, s.released = make(chan struct{}), false
	}
	s.mu.Unlock()
	for range steps {
		if err := s.takeStep(ctx); err != nil {
			return err
		}
		resource.Progress(ctx)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running = true
	return nil
}

// takeStep waits for a CtlStep credit.
func (s *scripted) takeStep(ctx context.Context) error {
	for {
		s.mu.Lock()
		if s.credits > 0 {
			s.credits--
			s.mu.Unlock()
			return nil
		}
		s.mu.Unlock()
		select {
		case <-s.stepped:
		case <-ctx.Done():
			return fmt.Errorf("scripted: waiting for a step: %w", ctx.Err())
		}
	}
}

func (s *scripted) Offline(ctx context.Context) error {
	s.mu.Lock()
	hang, _ := s.vals.GetBool("HangOffline")
	s.running, s.credits = false, 0
	cancel := s.cancel
	s.mu.Unlock()
	if hang {
		select {
		case <-ctx.Done():
			return fmt.Errorf("scripted: Offline told to hang: %w", ctx.Err())
		case <-cancel:
			return errors.New("scripted: Offline told to hang, ended by Terminate")
		}
	}
	return nil
}

func (s *scripted) IsAlive(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return resource.ErrNotRunning
	}
	return nil
}

func (s *scripted) LooksAlive(ctx context.Context) error { return s.IsAlive(ctx) }

// Terminate stops the resource at once and releases a hung Offline.
func (s *scripted) Terminate(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running, s.credits = false, 0
	if !s.released {
		close(s.cancel)
		s.released = true
	}
	return nil
}

// Close releases a hung Offline, so no call outlives the resource.
func (s *scripted) Close() error { return s.Terminate(context.Background()) }

func (s *scripted) Control(_ context.Context, code resource.ControlCode, _ []byte) ([]byte, error) {
	switch code {
	case CtlStep:
		s.mu.Lock()
		s.credits++
		s.mu.Unlock()
		select {
		case s.stepped <- struct{}{}:
		default: // a wake-up is pending already
		}
		return nil, nil
	case CtlFail:
		s.report(fmt.Errorf("scripted: %s told to fail", s.name))
		return nil, nil
	case CtlPanic:
		panic("scripted: told to panic in Control")
	}
	return nil, fmt.Errorf("scripted: control code %#x: %w", uint32(code), resource.ErrUnsupported)
}

// newHost returns the host this DLL serves: the quick-start's web type and
// the scripted type, with each resource's private properties in the cluster
// database. A resource opened without a key in the cluster database (only a
// test harness does that; the cluster always passes one) keeps its values
// in one store in memory, for the life of the process.
func newHost(opts wsfc.Options) (*wsfc.Host, error) {
	mem := properties.NewMemStore()
	opts.Store = func(name string, key wsfc.Key) (properties.Store, error) {
		if key != nil {
			return wsfc.NewKeyStore(name, key), nil
		}
		return mem, nil
	}
	h, err := wsfc.NewHost(opts)
	if err != nil {
		return nil, err
	}
	webType, err := resource.NewType(WebType, nil, func(context.Context, string, properties.Values) (resource.Resource, error) {
		return &web{}, nil
	})
	if err != nil {
		return nil, err
	}
	scriptedType, err := resource.NewType(ScriptedType, scriptedSchema, newScripted)
	if err != nil {
		return nil, err
	}
	for _, t := range []*resource.Type{webType, scriptedType} {
		if err := h.Register(t, wsfc.TypeOptions{}); err != nil {
			return nil, err
		}
	}
	return h, nil
}
