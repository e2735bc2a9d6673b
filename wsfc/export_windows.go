//go:build windows && cgo && amd64

package wsfc

import "C"

// Startup is the DLL's one export (PSTARTUP_ROUTINE), which the Resource
// Monitor calls once per resource type it hosts from the DLL: it answers
// for the host Serve installed (ERROR_MOD_NOT_FOUND when none was), with
// that type's CLRES_FUNCTION_TABLE in *functionTable. See Host.Startup.
//
//export Startup
func Startup(resourceType *uint16, minVersionSupported, maxVersionSupported uint32, setResourceStatus, logEvent uintptr, functionTable *uintptr) (rc uint32) {
	d := theDLL.Load()
	defer func() {
		if v := recover(); v != nil {
			rc = uint32(ErrorGenFailure)
			if d != nil {
				d.host.panicked(nil, "Startup", v)
			}
		}
	}()
	if d == nil {
		return uint32(ErrorModNotFound)
	}
	return uint32(d.startup(resourceType, minVersionSupported, maxVersionSupported, setResourceStatus, logEvent, functionTable))
}
