//go:build windows && cgo && amd64

package wsfc

/*
#include <stddef.h>
#include <stdlib.h>
#include <windows.h>

// The Resource API's version 1 types, declared here because the clusapi.h of
// some mingw-w64 releases (Debian 12's) does not compile. Layouts follow
// resapi.h; the static assertions check them for x64, the only target this
// file builds for (see its build constraint: on 32-bit x86 the Go callbacks
// and the cgo export would not have the stdcall convention of WINAPI, and
// wsfc_open_cb is declared without it). Handles and function pointers are
// carried as UINT_PTR so that Go never converts an integer to a pointer.

typedef struct wsfc_resource_status {   // RESOURCE_STATUS
	int      ResourceState;             // CLUSTER_RESOURCE_STATE, an enum
	DWORD    CheckPoint;
	DWORD    WaitHint;
	UINT_PTR EventHandle;               // HANDLE
} wsfc_resource_status;

typedef struct wsfc_v1_functions {      // CLRES_V1_FUNCTIONS
	UINT_PTR Open, Close, Online, Offline, Terminate, LooksAlive, IsAlive,
	         Arbitrate, Release, ResourceControl, ResourceTypeControl;
} wsfc_v1_functions;

typedef struct wsfc_function_table {    // CLRES_FUNCTION_TABLE, V1 member of its union
	DWORD TableSize;
	DWORD Version;
	wsfc_v1_functions V1Functions;
} wsfc_function_table;

#if !defined(__x86_64__) && !defined(_M_X64)
#error "the wsfc Windows layer is for x64 (amd64) only"
#endif
_Static_assert(sizeof(void *) == 8, "x64: 8-byte pointers");
_Static_assert(sizeof(UINT_PTR) == sizeof(void *), "UINT_PTR is pointer-sized");
_Static_assert(sizeof(HANDLE) == sizeof(UINT_PTR), "a HANDLE fits a UINT_PTR");
_Static_assert(offsetof(wsfc_resource_status, CheckPoint) == 4, "RESOURCE_STATUS.CheckPoint");
_Static_assert(offsetof(wsfc_resource_status, WaitHint) == 8, "RESOURCE_STATUS.WaitHint");
_Static_assert(offsetof(wsfc_resource_status, EventHandle) == 16, "RESOURCE_STATUS.EventHandle");
_Static_assert(sizeof(wsfc_resource_status) == 24, "sizeof(RESOURCE_STATUS)");
_Static_assert(sizeof(wsfc_v1_functions) == 88, "sizeof(CLRES_V1_FUNCTIONS), CLRES_V1_FUNCTION_SIZE");
_Static_assert(offsetof(wsfc_v1_functions, ResourceTypeControl) == 80, "CLRES_V1_FUNCTIONS.ResourceTypeControl");
_Static_assert(offsetof(wsfc_function_table, V1Functions) == 8, "CLRES_FUNCTION_TABLE.V1Functions");

typedef DWORD (WINAPI *wsfc_set_status_fn)(HANDLE, wsfc_resource_status *); // PSET_RESOURCE_STATUS_ROUTINE: a RESOURCE_EXIT_STATE
typedef VOID (WINAPI *wsfc_log_event_fn)(HANDLE, int, LPCWSTR, ...);         // PLOG_EVENT_ROUTINE

// The trampolines through which Go calls the Resource Monitor.
static DWORD wsfc_set_status(UINT_PTR fn, UINT_PTR h, wsfc_resource_status *st) {
	return ((wsfc_set_status_fn)fn)((HANDLE)h, st);
}

// LogEvent's format string takes FormatMessage inserts: the message is
// passed as the one insert, so a '%' in it is printed as it is.
static void wsfc_log_event(UINT_PTR fn, UINT_PTR h, int level, LPCWSTR msg) {
	((wsfc_log_event_fn)fn)((HANDLE)h, level, L"%1!ws!\n", msg);
}

static wsfc_function_table *wsfc_new_table(void) {
	wsfc_function_table *t = calloc(1, sizeof *t);
	if (t != NULL) {
		t->TableSize = sizeof(wsfc_v1_functions);
		t->Version = 0x100;
	}
	return t;
}

// Failure events: manual-reset, initially not signalled. Each returns 0 or
// the thread's last error.
static UINT_PTR wsfc_create_event(DWORD *err) {
	HANDLE h = CreateEventW(NULL, TRUE, FALSE, NULL);
	*err = h == NULL ? GetLastError() : 0;
	return (UINT_PTR)h;
}
static DWORD wsfc_set_event(UINT_PTR h)   { return SetEvent((HANDLE)h) ? 0 : GetLastError(); }
static DWORD wsfc_reset_event(UINT_PTR h) { return ResetEvent((HANDLE)h) ? 0 : GetLastError(); }
static DWORD wsfc_close_handle(UINT_PTR h) { return CloseHandle((HANDLE)h) ? 0 : GetLastError(); }

// Open is per type, because it is not told the type; and it reports failure
// through the thread's last error, which the Go runtime may change on the
// way out of a callback. So each type's Open is one of these C functions:
// it calls the type's Go callback and then sets the last error.
#define WSFC_MAX_TYPES 32
typedef UINT_PTR (*wsfc_open_cb)(LPCWSTR name, UINT_PTR key, UINT_PTR h, DWORD *err);
static UINT_PTR wsfc_open_cbs[WSFC_MAX_TYPES];
#define WSFC_OPEN(i) \
	static PVOID WINAPI wsfc_open_##i(LPCWSTR name, UINT_PTR key, UINT_PTR h) { \
		DWORD err = 0; \
		UINT_PTR id = ((wsfc_open_cb)wsfc_open_cbs[i])(name, key, h, &err); \
		if (id == 0) SetLastError(err); \
		return (PVOID)id; \
	}
WSFC_OPEN(0) WSFC_OPEN(1) WSFC_OPEN(2) WSFC_OPEN(3) WSFC_OPEN(4) WSFC_OPEN(5) WSFC_OPEN(6) WSFC_OPEN(7)
WSFC_OPEN(8) WSFC_OPEN(9) WSFC_OPEN(10) WSFC_OPEN(11) WSFC_OPEN(12) WSFC_OPEN(13) WSFC_OPEN(14) WSFC_OPEN(15)
WSFC_OPEN(16) WSFC_OPEN(17) WSFC_OPEN(18) WSFC_OPEN(19) WSFC_OPEN(20) WSFC_OPEN(21) WSFC_OPEN(22) WSFC_OPEN(23)
WSFC_OPEN(24) WSFC_OPEN(25) WSFC_OPEN(26) WSFC_OPEN(27) WSFC_OPEN(28) WSFC_OPEN(29) WSFC_OPEN(30) WSFC_OPEN(31)
static PVOID (WINAPI *const wsfc_opens[WSFC_MAX_TYPES])(LPCWSTR, UINT_PTR, UINT_PTR) = {
	wsfc_open_0, wsfc_open_1, wsfc_open_2, wsfc_open_3, wsfc_open_4, wsfc_open_5, wsfc_open_6, wsfc_open_7,
	wsfc_open_8, wsfc_open_9, wsfc_open_10, wsfc_open_11, wsfc_open_12, wsfc_open_13, wsfc_open_14, wsfc_open_15,
	wsfc_open_16, wsfc_open_17, wsfc_open_18, wsfc_open_19, wsfc_open_20, wsfc_open_21, wsfc_open_22, wsfc_open_23,
	wsfc_open_24, wsfc_open_25, wsfc_open_26, wsfc_open_27, wsfc_open_28, wsfc_open_29, wsfc_open_30, wsfc_open_31,
};

// wsfc_set_open points type i's Open at the Go callback cb and returns the
// C function to put in its table.
static UINT_PTR wsfc_set_open(int i, UINT_PTR cb) {
	wsfc_open_cbs[i] = cb;
	return (UINT_PTR)wsfc_opens[i];
}

// wsfc_pin keeps the module holding this code loaded until the process
// ends, whatever FreeLibrary calls come: the Go runtime cannot be unloaded.
static DWORD wsfc_pin(void) {
	HMODULE m;
	if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_PIN | GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, (LPCWSTR)(void *)&wsfc_pin, &m)) {
		return GetLastError();
	}
	return 0;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// theDLL is the host the DLL serves. It is the package's one variable:
// the Resource Monitor calls Startup with no context to find a host by, so
// Serve must leave it where the export finds it.
var theDLL atomic.Pointer[dll]

// dll is the Windows layer around the served Host.
type dll struct {
	host *Host
	api  *clusAPI

	mu     sync.Mutex                     // guards tables and shared
	tables map[int]*C.wsfc_function_table // one per type, by Table.Index; never freed
	shared *C.wsfc_v1_functions           // the callbacks every table shares, made once
}

// Serve makes h the host of this DLL: the Startup export hands out its
// types' function tables from now on. Call it once, from an init function
// of the DLL's main package, before the Resource Monitor can call Startup
// (the Go runtime runs the init functions before any export). It pins the
// DLL in memory, since the Go runtime cannot be unloaded, and, when
// h's Options.Events is nil, gives h Win32 events as failure event handles.
// A second call is an error.
func Serve(h *Host) error {
	if h == nil {
		return errors.New("wsfc: Serve: nil host")
	}
	if rc := C.wsfc_pin(); rc != 0 {
		return fmt.Errorf("wsfc: pinning the DLL in memory: %w", syscall.Errno(rc))
	}
	if h.opts.Events == nil {
		h.opts.Events = winEvents{}
	}
	d := &dll{host: h, api: newClusAPI(), tables: map[int]*C.wsfc_function_table{}}
	if !theDLL.CompareAndSwap(nil, d) {
		return errors.New("wsfc: Serve called twice")
	}
	return nil
}

// startup serves the Startup export.
func (d *dll) startup(typeName *uint16, minVersion, maxVersion uint32, setStatus, logEvent uintptr, out *uintptr) Errno {
	if typeName == nil || out == nil {
		return ErrorInvalidParameter
	}
	var mon Monitor
	if setStatus != 0 && logEvent != 0 {
		mon = cMonitor{setStatus: setStatus, logEvent: logEvent}
	}
	t, code := d.host.Startup(wstring(typeName), minVersion, maxVersion, mon)
	if code != ErrorSuccess {
		return code
	}
	table, err := d.table(t)
	if err != nil {
		d.host.log.Error("Startup", "type", t.TypeName(), "err", err)
		return ErrorGenFailure
	}
	*out = uintptr(unsafe.Pointer(table))
	return ErrorSuccess
}

// table returns the C function table of t's type, making it on first use.
func (d *dll) table(t *Table) (*C.wsfc_function_table, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ct, ok := d.tables[t.Index()]; ok {
		return ct, nil
	}
	if d.shared == nil {
		d.shared = &C.wsfc_v1_functions{
			Close:               C.UINT_PTR(syscall.NewCallback(d.close)),
			Online:              C.UINT_PTR(syscall.NewCallback(d.online)),
			Offline:             C.UINT_PTR(syscall.NewCallback(d.offline)),
			Terminate:           C.UINT_PTR(syscall.NewCallback(d.terminate)),
			LooksAlive:          C.UINT_PTR(syscall.NewCallback(d.looksAlive)),
			IsAlive:             C.UINT_PTR(syscall.NewCallback(d.isAlive)),
			ResourceControl:     C.UINT_PTR(syscall.NewCallback(d.resourceControl)),
			ResourceTypeControl: C.UINT_PTR(syscall.NewCallback(d.resourceTypeControl)),
		}
	}
	if t.Index() >= MaxTypes {
		return nil, fmt.Errorf("wsfc: type %q is number %d; a DLL serves at most %d types", t.TypeName(), t.Index()+1, MaxTypes)
	}
	ct := C.wsfc_new_table()
	if ct == nil {
		return nil, errors.New("wsfc: out of memory for a function table")
	}
	ct.V1Functions = *d.shared
	ct.V1Functions.Open = C.wsfc_set_open(C.int(t.Index()), C.UINT_PTR(syscall.NewCallback(d.opener(t))))
	// Arbitrate and Release stay NULL: resdll types are not quorum-capable.
	d.tables[t.Index()] = ct
	return ct, nil
}

// The entry points, as syscall.NewCallback functions: every argument is a
// pointer or a value of at most pointer size, DWORDs are uint32 (their
// register's upper half is undefined), and each returns one uintptr. Each
// recovers what the Host methods do not already.

// MaxTypes is how many resource types one DLL serves: each needs a C Open
// function of its own, and there are this many.
const MaxTypes = C.WSFC_MAX_TYPES

func (d *dll) opener(t *Table) func(name *uint16, key, h uintptr, lastErr *uint32) uintptr {
	return func(name *uint16, key, h uintptr, lastErr *uint32) (id uintptr) {
		defer func() {
			if v := recover(); v != nil {
				id, *lastErr = 0, uint32(d.host.panicked(nil, "Open", v))
			}
		}()
		if name == nil {
			*lastErr = uint32(ErrorInvalidParameter)
			return 0
		}
		var k Key
		if key != 0 {
			k = clusterKey{h: key, api: d.api}
		}
		rid, code := t.Open(wstring(name), k, ResourceHandle(h))
		*lastErr = uint32(code)
		return uintptr(rid)
	}
}

func (d *dll) close(id uintptr) uintptr {
	defer d.recoverVoid("Close")
	d.host.Close(ResID(id))
	return 0
}

func (d *dll) online(id uintptr, event *uintptr) (rc uintptr) {
	defer func() {
		if v := recover(); v != nil {
			rc = uintptr(d.host.panicked(nil, "Online", v))
		}
	}()
	ev, code := d.host.Online(ResID(id))
	if event != nil {
		*event = ev
	}
	return uintptr(code)
}

func (d *dll) offline(id uintptr) (rc uintptr) {
	defer func() {
		if v := recover(); v != nil {
			rc = uintptr(d.host.panicked(nil, "Offline", v))
		}
	}()
	return uintptr(d.host.Offline(ResID(id)))
}

func (d *dll) terminate(id uintptr) uintptr {
	defer d.recoverVoid("Terminate")
	d.host.Terminate(ResID(id))
	return 0
}

func (d *dll) looksAlive(id uintptr) uintptr { return boolRC(d.host.LooksAlive(ResID(id))) }
func (d *dll) isAlive(id uintptr) uintptr    { return boolRC(d.host.IsAlive(ResID(id))) }

func boolRC(b bool) uintptr {
	if b {
		return 1
	}
	return 0
}

func (d *dll) resourceControl(id uintptr, code uint32, in *byte, inSize uint32, out *byte, outSize uint32, returned *uint32) (rc uintptr) {
	defer func() {
		if v := recover(); v != nil {
			rc = uintptr(d.host.panicked(nil, "ResourceControl", v))
		}
	}()
	n, errno := d.host.ResourceControl(ResID(id), code, bytesAt(in, inSize), bytesAt(out, outSize))
	if returned != nil {
		*returned = n
	}
	return uintptr(errno)
}

func (d *dll) resourceTypeControl(typeName *uint16, code uint32, in *byte, inSize uint32, out *byte, outSize uint32, returned *uint32) (rc uintptr) {
	defer func() {
		if v := recover(); v != nil {
			rc = uintptr(d.host.panicked(nil, "ResourceTypeControl", v))
		}
	}()
	if typeName == nil {
		return uintptr(ErrorInvalidParameter)
	}
	n, errno := d.host.ResourceTypeControl(wstring(typeName), code, bytesAt(in, inSize), bytesAt(out, outSize))
	if returned != nil {
		*returned = n
	}
	return uintptr(errno)
}

// recoverVoid logs a panic of a void entry point; use it as a deferred call.
func (d *dll) recoverVoid(op string) {
	if v := recover(); v != nil {
		d.host.panicked(nil, op, v)
	}
}

// bytesAt is the n bytes at p, which the caller owns; nil when there are
// none.
func bytesAt(p *byte, n uint32) []byte {
	if p == nil || n == 0 {
		return nil
	}
	return unsafe.Slice(p, n)
}

// maxWString bounds the strings read from the Resource Monitor (resource
// and type names), in UTF-16 code units.
const maxWString = 1 << 15

// wstring reads a NUL-terminated UTF-16 string.
func wstring(p *uint16) string {
	n := 0
	for q := unsafe.Pointer(p); n < maxWString && *(*uint16)(q) != 0; n++ {
		q = unsafe.Add(q, 2)
	}
	return syscall.UTF16ToString(unsafe.Slice(p, n))
}

// cMonitor calls the Resource Monitor's callbacks through the trampolines.
type cMonitor struct{ setStatus, logEvent uintptr }

func (m cMonitor) SetResourceStatus(h ResourceHandle, st Status) ExitState {
	cs := C.wsfc_resource_status{
		ResourceState: C.int(st.State),
		CheckPoint:    C.DWORD(st.CheckPoint),
		WaitHint:      C.DWORD(st.WaitHint),
		EventHandle:   C.UINT_PTR(st.EventHandle),
	}
	return ExitState(C.wsfc_set_status(C.UINT_PTR(m.setStatus), C.UINT_PTR(h), &cs))
}

func (m cMonitor) LogEvent(h ResourceHandle, level LogLevel, msg string) {
	w, err := syscall.UTF16FromString(strings.ReplaceAll(msg, "\x00", "\uFFFD"))
	if err != nil {
		return
	}
	C.wsfc_log_event(C.UINT_PTR(m.logEvent), C.UINT_PTR(h), C.int(level), (*C.WCHAR)(unsafe.Pointer(&w[0])))
}

// winEvents makes failure events as Win32 manual-reset events.
type winEvents struct{}

func (winEvents) NewEvent() (FailureEvent, error) {
	var rc C.DWORD
	h := C.wsfc_create_event(&rc)
	if h == 0 {
		return nil, fmt.Errorf("wsfc: CreateEvent: %w", syscall.Errno(rc))
	}
	return winEvent(h), nil
}

// winEvent is a Win32 event HANDLE.
type winEvent uintptr

func (e winEvent) Handle() uintptr { return uintptr(e) }
func (e winEvent) Set() error      { return winErr("SetEvent", C.wsfc_set_event(C.UINT_PTR(e))) }
func (e winEvent) Reset() error    { return winErr("ResetEvent", C.wsfc_reset_event(C.UINT_PTR(e))) }
func (e winEvent) Close() error    { return winErr("CloseHandle", C.wsfc_close_handle(C.UINT_PTR(e))) }

func winErr(op string, rc C.DWORD) error {
	if rc == 0 {
		return nil
	}
	return fmt.Errorf("wsfc: %s: %w", op, syscall.Errno(rc))
}
