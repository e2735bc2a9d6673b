package main

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/resdll/resdll/monitor"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
)

// running reports whether a service runs.
func (s *server) running(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.svc(name).running
}

var vsSchema = properties.MustSchema(
	properties.Property{Name: "Port", Kind: properties.Uint32, Default: uint32(25), Min: uint32(1), Max: uint32(65535),
		Description: "TCP port of the virtual server", Unique: true},
	properties.Property{Name: "LogLevel", Kind: properties.Uint32, Default: uint32(1), Max: uint32(5), Reloadable: true,
		Description: "protocol logging level; changes apply at once"},
)

var storeSchema = properties.MustSchema(
	properties.Property{Name: "DatabasePath", Kind: properties.String, Default: `E:\MDBDATA\priv1.edb`,
		Description: "the mailbox store's database file"},
)

// registerTypes registers the Exchange resource types, each with the
// server as its sync hook (EXSETDATA's role).
func registerTypes(m *monitor.Monitor, srv *server, d driver) error {
	svc := func(name, svcName string, schema *properties.Schema, mount time.Duration) (*resource.Type, error) {
		return resource.NewType(name, schema, func(context.Context, string, properties.Values) (resource.Resource, error) {
			return &winService{s: srv, name: svcName, mount: mount}, nil
		})
	}
	// A protocol type shares one service among its virtual servers (R41,
	// R60): loaded on the first Open, released after the last.
	protocol := func(name, svcName string, stopAll bool) (*resource.Type, error) {
		return resource.NewSharedType(name, vsSchema, resource.Shared[string]{
			Load: func(context.Context) (string, error) { srv.set(func() { srv.svc(svcName) }); return svcName, nil },
		}, func(_ context.Context, svcName string, res string, _ properties.Values) (resource.Resource, error) {
			return &virtualServer{s: srv, svcName: svcName, name: res, stopAll: stopAll}, nil
		})
	}
	var errs []error
	add := func(t *resource.Type, err error) {
		if err == nil {
			t.SetSyncHook(srv)
			err = m.RegisterType(t)
		}
		errs = append(errs, err)
	}
	add(svc("Exchange System Attendant", "MSExchangeSA", nil, 0))
	add(svc("Exchange Information Store", "MSExchangeIS", storeSchema, d.dur(4*time.Minute)))
	add(svc("Exchange Message Transfer Agent", "MSExchangeMTA", nil, 0))
	add(protocol("Exchange SMTP Virtual Server", "SMTPSVC", true))
	add(protocol("Exchange IMAP4 Virtual Server", "IMAP4SVC", false))
	add(protocol("Exchange HTTP Virtual Server", "W3SVC", false))
	return errors.Join(errs...)
}

func mustValues(m map[string]any) properties.Values {
	v, err := properties.NewValues(m)
	if err != nil {
		panic(err)
	}
	return v
}

// outcome reads a set's answer: "applied" or "stored (…)".
func outcome(answer []byte) string {
	var a properties.SetAnswer
	if err := json.Unmarshal(answer, &a); err != nil {
		return "?"
	}
	if a.Outcome == "stored" {
		return "stored, takes effect at the next Online"
	}
	return a.Outcome
}

func isStored(err error) bool { return errors.Is(err, properties.ErrStored) }
