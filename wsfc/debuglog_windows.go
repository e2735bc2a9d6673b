//go:build windows

package wsfc

import (
	"log/slog"
	"strings"
	"syscall"
	"unsafe"
)

// NewDebugLogHandler returns a slog.Handler that writes each record as one
// line with OutputDebugStringW, formatted as [NewLogHandler] formats it and
// prefixed with "resdll: " and the LOG_LEVEL name. A debugger attached to
// the process, or Sysinternals DebugView, shows the lines; without one they
// go nowhere, at the cost of a system call. Records below minLevel are
// dropped (nil: slog.LevelInfo).
//
// It suits Options.Logger in a resource DLL: the host's own records
// (Startup, ResourceTypeControl, calls with an unknown RESID, panics where no
// resource is known) have no resource handle, so they cannot go to the
// cluster log through LogEvent.
func NewDebugLogHandler(minLevel slog.Leveler) slog.Handler {
	proc := syscall.NewLazyDLL("kernel32.dll").NewProc("OutputDebugStringW")
	return newLineHandler(func(level LogLevel, line string) {
		w, err := syscall.UTF16FromString("resdll: " + level.String() + " " + strings.ReplaceAll(line, "\x00", "\uFFFD") + "\n")
		if err != nil || proc.Find() != nil {
			return
		}
		_, _, _ = proc.Call(uintptr(unsafe.Pointer(&w[0])))
	}, minLevel)
}
