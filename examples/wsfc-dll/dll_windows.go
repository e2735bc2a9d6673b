//go:build windows && cgo && amd64

package main

import (
	"log/slog"

	"github.com/resdll/resdll/wsfc"
)

// init serves the host from the moment the DLL is loaded: the Go runtime
// runs it before any call of the Startup export returns. The host's own log
// (Startup, panics where no resource is known) goes to OutputDebugString,
// which a debugger or DebugView shows; each resource's records, Open
// failures and panics with their stacks go to the cluster log through
// LogEvent. If the host cannot be built (a programming error), that is
// logged the same way, nothing is served, and Startup answers
// ERROR_MOD_NOT_FOUND for every type.
func init() {
	logger := slog.New(wsfc.NewDebugLogHandler(slog.LevelInfo))
	h, err := newHost(wsfc.Options{Logger: logger})
	if err == nil {
		err = wsfc.Serve(h)
	}
	if err != nil {
		logger.Error("wsfc-dll: serving nothing", "err", err)
	}
}
