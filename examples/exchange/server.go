package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
)

// server simulates the Exchange 2003 server the resources drive: its
// Windows services, the IIS-hosted protocol services with a command bit
// per virtual server, and the application's own configuration (what
// EXSETDATA.DLL writes, and what an administrator may edit directly).
type server struct {
	clk clock.Clock

	mu       sync.Mutex
	services map[string]*service          // by service name
	config   map[string]properties.Values // the application's configuration, by resource
	// Faults the story injects.
	hangDismount bool // the Store's dismount hangs
	mtaBroken    bool // the MTA stops answering
}

// service is one Windows service. Protocol services host several virtual
// servers, each switched on by its command bit (R60).
type service struct {
	running bool
	bits    map[string]bool // virtual server → its command bit
	// stoppedByCluster: the cluster stopped the whole service to take one
	// virtual server offline (the SMTP case, R61); an administrator's stop
	// leaves it false (R62).
	stoppedByCluster bool
	logLevel         uint32 // the protocol log level it runs with
}

func newServer(clk clock.Clock) *server {
	return &server{clk: clk, services: map[string]*service{}, config: map[string]properties.Values{}}
}

func (s *server) svc(name string) *service {
	v := s.services[name]
	if v == nil {
		v = &service{bits: map[string]bool{}}
		s.services[name] = v
	}
	return v
}

// adminStop is an administrator stopping a service from outside the
// cluster ("net stop smtpsvc").
func (s *server) adminStop(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.svc(name).running = false
}

// editConfig is an administrator changing the application's configuration
// in its own console, behind the cluster's back (R55).
func (s *server) editConfig(res, prop string, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.config[res].Clone()
	_ = c.Set(prop, v)
	s.config[res] = c
}

func (s *server) set(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
}

// Push is the sync hook (EXSETDATA's role, R53): it writes a resource's
// values into the application's configuration.
func (s *server) Push(_ context.Context, res string, v properties.Values) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.config[res] = v.Clone()
	return nil
}

// Pull reads the application's configuration back, for drift (R55).
func (s *server) Pull(_ context.Context, res string) (properties.Values, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.config[res].Clone(), nil
}

// sleep waits d on the server's clock, or until ctx ends.
func (s *server) sleep(ctx context.Context, d time.Duration) error {
	t := s.clk.Timer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// winService is a resource that is one Windows service: the System
// Attendant, the Information Store, the MTA.
type winService struct {
	s    *server
	name string // the service's name
	// mount is how long Online takes (the Store mounts its database: it
	// declares that it waits without a time-out, R12).
	mount time.Duration
}

func (w *winService) Online(ctx context.Context) error {
	if w.mount > 0 {
		resource.WaitWithoutTimeout(ctx) // R12: mounting may take long
		if err := w.s.sleep(ctx, w.mount); err != nil {
			return err
		}
	}
	w.s.set(func() { w.s.svc(w.name).running = true })
	return nil
}

func (w *winService) Offline(ctx context.Context) error {
	w.s.mu.Lock()
	hang := w.s.hangDismount && w.name == "MSExchangeIS"
	w.s.mu.Unlock()
	if hang {
		<-ctx.Done() // the dismount hangs; the engine gives up (R16)
		return fmt.Errorf("dismount: %w", ctx.Err())
	}
	w.s.set(func() { w.s.svc(w.name).running = false })
	return nil
}

func (w *winService) IsAlive(context.Context) error {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	switch {
	case w.name == "MSExchangeMTA" && w.s.mtaBroken:
		return errors.New("MTA does not answer RPC")
	case !w.s.svc(w.name).running:
		return fmt.Errorf("service %s: %w", w.name, resource.ErrNotRunning)
	}
	return nil
}

// Terminate ends the service's process (EXRES ends the Store, System
// Attendant and MTA processes this way, R16).
func (w *winService) Terminate(context.Context) error {
	w.s.set(func() { w.s.svc(w.name).running = false })
	return nil
}

// virtualServer is one protocol virtual server on a shared protocol
// service (R60).
type virtualServer struct {
	s       *server
	svcName string // the shared service: "SMTPSVC", "IMAP4SVC", "W3SVC"
	name    string // the resource, whose command bit it sets
	// stopAll: taking one virtual server offline stops the whole service
	// (SMTP, R61).
	stopAll bool
}

func (v *virtualServer) Online(context.Context) error {
	v.s.mu.Lock()
	defer v.s.mu.Unlock()
	svc := v.s.svc(v.svcName)
	svc.running, svc.stoppedByCluster = true, false // R60: start it if needed
	svc.bits[v.name] = true
	return nil
}

func (v *virtualServer) Offline(context.Context) error {
	v.s.mu.Lock()
	defer v.s.mu.Unlock()
	svc := v.s.svc(v.svcName)
	svc.bits[v.name] = false
	if v.stopAll {
		svc.running, svc.stoppedByCluster = false, true // R61: recorded in the shared state
	}
	return nil
}

func (v *virtualServer) IsAlive(context.Context) error {
	v.s.mu.Lock()
	defer v.s.mu.Unlock()
	svc := v.s.svc(v.svcName)
	if !svc.running {
		if !svc.stoppedByCluster {
			return fmt.Errorf("service %s stopped outside the cluster", v.svcName) // R62
		}
		// R61: the cluster stopped it for another instance: start it again
		// with the bits of the instances that are online.
		svc.running, svc.stoppedByCluster = true, false
	}
	if !svc.bits[v.name] {
		return fmt.Errorf("virtual server %s is not enabled", v.name)
	}
	return nil
}

// bitsOf lists the virtual servers whose bit is set, for the narration.
func (s *server) bitsOf(svcName string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var on []string
	for _, name := range slices.Sorted(maps.Keys(s.svc(svcName).bits)) {
		if s.svc(svcName).bits[name] {
			on = append(on, name)
		}
	}
	return on
}

// ApplyProperties takes new values while the virtual server runs (R58):
// the engine calls it only when every changed property is reloadable, here
// LogLevel, which the service rereads at once.
func (v *virtualServer) ApplyProperties(_ context.Context, vals properties.Values) error {
	lvl, err := vals.GetUint32("LogLevel")
	if err != nil {
		return err
	}
	v.s.mu.Lock()
	defer v.s.mu.Unlock()
	v.s.svc(v.svcName).logLevel = lvl
	return nil
}
