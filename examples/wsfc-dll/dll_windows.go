//go:build windows && cgo

package main

import "github.com/resdll/resdll/wsfc"

// init serves the host from the moment the DLL is loaded: the Go runtime
// runs it before any call of the Startup export returns. If the host cannot
// be built (a programming error), nothing is served and Startup answers
// ERROR_MOD_NOT_FOUND for every type.
func init() {
	h, err := newHost(wsfc.Options{})
	if err != nil {
		return
	}
	_ = wsfc.Serve(h)
}
