package wsfc

import (
	"context"
	"errors"
	"fmt"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
)

// Errno is a Windows system error code, as the Resource API's entry points
// return it (a DWORD). It is an error, so a resource can wrap one to choose the
// code its failure is reported with: errors.As finds it before the mapping
// of resdll's sentinels applies (see [Code]).
type Errno uint32

// The Windows system error codes the host returns (winerror.h).
const (
	ErrorSuccess                  Errno = 0    // ERROR_SUCCESS
	ErrorInvalidFunction          Errno = 1    // ERROR_INVALID_FUNCTION: a control code nobody handles
	ErrorFileNotFound             Errno = 2    // ERROR_FILE_NOT_FOUND: resource.ErrNotInstalled
	ErrorAccessDenied             Errno = 5    // ERROR_ACCESS_DENIED: resource.ErrPermission
	ErrorInvalidHandle            Errno = 6    // ERROR_INVALID_HANDLE: an unknown or closed RESID
	ErrorInvalidData              Errno = 13   // ERROR_INVALID_DATA: a malformed property list
	ErrorGenFailure               Errno = 31   // ERROR_GEN_FAILURE: a panic in the host itself
	ErrorInvalidParameter         Errno = 87   // ERROR_INVALID_PARAMETER: a property value refused (R52)
	ErrorModNotFound              Errno = 126  // ERROR_MOD_NOT_FOUND: Startup for a type the DLL does not serve
	ErrorMoreData                 Errno = 234  // ERROR_MORE_DATA: the output buffer is too small
	ErrorOperationAborted         Errno = 995  // ERROR_OPERATION_ABORTED: resource.ErrTerminated
	ErrorIOPending                Errno = 997  // ERROR_IO_PENDING: Online or Offline goes on (R10)
	ErrorRevisionMismatch         Errno = 1306 // ERROR_REVISION_MISMATCH: no common Resource API version
	ErrorFileCorrupt              Errno = 1392 // ERROR_FILE_CORRUPT: properties.ErrCorrupt (R56)
	ErrorTimeout                  Errno = 1460 // ERROR_TIMEOUT: resource.ErrPendingTimeout, ErrWorkerStuck
	ErrorBadConfiguration         Errno = 1610 // ERROR_BAD_CONFIGURATION: resource.ErrNotConfigured
	ErrorInvalidState             Errno = 5023 // ERROR_INVALID_STATE: resource.ErrInvalidTransition
	ErrorResourcePropertiesStored Errno = 5024 // ERROR_RESOURCE_PROPERTIES_STORED: properties.ErrStored (R58)
	ErrorResourceFailed           Errno = 5038 // ERROR_RESOURCE_FAILED: any other failure
	ErrorResourceTypeNotFound     Errno = 5078 // ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND: ResourceTypeControl for a type not served
)

var errnoNames = map[Errno]string{
	ErrorSuccess:                  "ERROR_SUCCESS",
	ErrorInvalidFunction:          "ERROR_INVALID_FUNCTION",
	ErrorFileNotFound:             "ERROR_FILE_NOT_FOUND",
	ErrorAccessDenied:             "ERROR_ACCESS_DENIED",
	ErrorInvalidHandle:            "ERROR_INVALID_HANDLE",
	ErrorInvalidData:              "ERROR_INVALID_DATA",
	ErrorGenFailure:               "ERROR_GEN_FAILURE",
	ErrorInvalidParameter:         "ERROR_INVALID_PARAMETER",
	ErrorModNotFound:              "ERROR_MOD_NOT_FOUND",
	ErrorMoreData:                 "ERROR_MORE_DATA",
	ErrorOperationAborted:         "ERROR_OPERATION_ABORTED",
	ErrorIOPending:                "ERROR_IO_PENDING",
	ErrorRevisionMismatch:         "ERROR_REVISION_MISMATCH",
	ErrorFileCorrupt:              "ERROR_FILE_CORRUPT",
	ErrorTimeout:                  "ERROR_TIMEOUT",
	ErrorBadConfiguration:         "ERROR_BAD_CONFIGURATION",
	ErrorInvalidState:             "ERROR_INVALID_STATE",
	ErrorResourcePropertiesStored: "ERROR_RESOURCE_PROPERTIES_STORED",
	ErrorResourceFailed:           "ERROR_RESOURCE_FAILED",
	ErrorResourceTypeNotFound:     "ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND",
}

// Error returns the code's winerror.h name and number, such as
// "ERROR_IO_PENDING (997)".
func (e Errno) Error() string {
	if n, ok := errnoNames[e]; ok {
		return fmt.Sprintf("%s (%d)", n, uint32(e))
	}
	return fmt.Sprintf("Windows error %d", uint32(e))
}

// Code returns the Windows system error code an error is reported with:
// ERROR_SUCCESS for nil; the [Errno] the error wraps, when it wraps one; the
// code of the first of resdll's sentinels it wraps; ERROR_RESOURCE_FAILED
// otherwise. The table is in the package documentation.
func Code(err error) Errno {
	if err == nil {
		return ErrorSuccess
	}
	var e Errno
	if errors.As(err, &e) {
		return e
	}
	for _, m := range codeMap {
		if errors.Is(err, m.err) {
			return m.code
		}
	}
	return ErrorResourceFailed
}

// codeMap is Code's table, most specific first.
var codeMap = []struct {
	err  error
	code Errno
}{
	{properties.ErrStored, ErrorResourcePropertiesStored},
	{ErrMalformed, ErrorInvalidData},
	{properties.ErrInvalid, ErrorInvalidParameter},
	{properties.ErrCorrupt, ErrorFileCorrupt},
	{resource.ErrUnsupported, ErrorInvalidFunction},
	{resource.ErrInvalidTransition, ErrorInvalidState},
	{resource.ErrClosed, ErrorInvalidHandle},
	{resource.ErrPendingTimeout, ErrorTimeout},
	{resource.ErrWorkerStuck, ErrorTimeout},
	{resource.ErrCheckTimeout, ErrorTimeout},
	{resource.ErrTerminated, ErrorOperationAborted},
	{resource.ErrNotInstalled, ErrorFileNotFound},
	{resource.ErrNotConfigured, ErrorBadConfiguration},
	{resource.ErrPermission, ErrorAccessDenied},
	{context.DeadlineExceeded, ErrorTimeout},
	{context.Canceled, ErrorOperationAborted},
}

// ResourceState is a CLUSTER_RESOURCE_STATE: the state a status report
// (RESOURCE_STATUS) gives the Resource Monitor.
type ResourceState int32

// The CLUSTER_RESOURCE_STATE values a resource DLL reports (clusapi.h).
const (
	StateUnknown        ResourceState = -1  // ClusterResourceStateUnknown
	StateOnline         ResourceState = 2   // ClusterResourceOnline
	StateOffline        ResourceState = 3   // ClusterResourceOffline
	StateFailed         ResourceState = 4   // ClusterResourceFailed
	StateOnlinePending  ResourceState = 129 // ClusterResourceOnlinePending
	StateOfflinePending ResourceState = 130 // ClusterResourceOfflinePending
)

// String returns the clusapi.h name without its prefix, such as
// "OnlinePending".
func (s ResourceState) String() string {
	switch s {
	case StateUnknown:
		return "Unknown"
	case StateOnline:
		return "Online"
	case StateOffline:
		return "Offline"
	case StateFailed:
		return "Failed"
	case StateOnlinePending:
		return "OnlinePending"
	case StateOfflinePending:
		return "OfflinePending"
	}
	return fmt.Sprintf("ResourceState(%d)", int32(s))
}

// stateOf maps a resdll state to the Windows one (R1).
func stateOf(s resource.State) ResourceState {
	switch s {
	case resource.Offline:
		return StateOffline
	case resource.OnlinePending:
		return StateOnlinePending
	case resource.Online:
		return StateOnline
	case resource.OfflinePending:
		return StateOfflinePending
	case resource.Failed:
		return StateFailed
	}
	return StateUnknown
}

// LogLevel is a LOG_LEVEL, the severity the Resource Monitor's LogEvent
// callback takes.
type LogLevel uint32

// The LOG_LEVEL values (resapi.h).
const (
	LogInformation LogLevel = 0 // LOG_INFORMATION
	LogWarning     LogLevel = 1 // LOG_WARNING
	LogError       LogLevel = 2 // LOG_ERROR
	LogSevere      LogLevel = 3 // LOG_SEVERE
)

// String returns the resapi.h name, such as "LOG_WARNING".
func (l LogLevel) String() string {
	switch l {
	case LogInformation:
		return "LOG_INFORMATION"
	case LogWarning:
		return "LOG_WARNING"
	case LogError:
		return "LOG_ERROR"
	case LogSevere:
		return "LOG_SEVERE"
	}
	return fmt.Sprintf("LogLevel(%d)", uint32(l))
}

// Version is CLRES_VERSION_V1_00, the Resource API version this package
// implements: Startup hands back a version 1 function table.
const Version = 0x100

// Resource API control codes (clusapi.h: CLUSCTL_RESOURCE_* and
// CLUSCTL_RESOURCE_TYPE_*). Codes are built as object<<24 | modify<<22 |
// function<<2 | access.
const (
	CtlResourceUnknown                 uint32 = 0x01000000 // CLUSCTL_RESOURCE_UNKNOWN
	CtlResourceEnumCommonProperties    uint32 = 0x01000051 // CLUSCTL_RESOURCE_ENUM_COMMON_PROPERTIES
	CtlResourceGetROCommonProperties   uint32 = 0x01000055 // CLUSCTL_RESOURCE_GET_RO_COMMON_PROPERTIES
	CtlResourceGetCommonProperties     uint32 = 0x01000059 // CLUSCTL_RESOURCE_GET_COMMON_PROPERTIES
	CtlResourceSetCommonProperties     uint32 = 0x0140005E // CLUSCTL_RESOURCE_SET_COMMON_PROPERTIES
	CtlResourceValidateCommonProps     uint32 = 0x01000061 // CLUSCTL_RESOURCE_VALIDATE_COMMON_PROPERTIES
	CtlResourceGetCommonPropertyFmts   uint32 = 0x01000065 // CLUSCTL_RESOURCE_GET_COMMON_PROPERTY_FMTS
	CtlResourceEnumPrivateProperties   uint32 = 0x01000079 // CLUSCTL_RESOURCE_ENUM_PRIVATE_PROPERTIES
	CtlResourceGetROPrivateProperties  uint32 = 0x0100007D // CLUSCTL_RESOURCE_GET_RO_PRIVATE_PROPERTIES
	CtlResourceGetPrivateProperties    uint32 = 0x01000081 // CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTIES
	CtlResourceSetPrivateProperties    uint32 = 0x01400086 // CLUSCTL_RESOURCE_SET_PRIVATE_PROPERTIES
	CtlResourceValidatePrivateProps    uint32 = 0x01000089 // CLUSCTL_RESOURCE_VALIDATE_PRIVATE_PROPERTIES
	CtlResourceGetPrivatePropertyFmts  uint32 = 0x0100008D // CLUSCTL_RESOURCE_GET_PRIVATE_PROPERTY_FMTS
	CtlResourceTypeUnknown             uint32 = 0x02000000 // CLUSCTL_RESOURCE_TYPE_UNKNOWN
	CtlResourceTypeGetResourcePropFmts uint32 = 0x02000091 // CLUSCTL_RESOURCE_TYPE_GET_PRIVATE_RESOURCE_PROPERTY_FMTS
)

// The parts of a control code (clusapi.h). CLUSCTL_USER_CODE(Function,
// Object) is Object<<24 | (CLCTL_USER_BASE + Function)<<2, with
// CLCTL_USER_BASE = 1<<21: the user function sits in bits 2 to 22 under bit 23.
const (
	ctlObjectShift   = 24
	objectResource   = 1 // CLUS_OBJECT_RESOURCE
	ctlFunctionShift = 2
	ctlFunctionMask  = 0x3FFFF // an external code's function, after the shift
	ctlUserBase      = 1 << 21 // CLCTL_USER_BASE
	ctlUserBit       = ctlUserBase << ctlFunctionShift
	maxUserFunction  = ctlUserBase - 1 // the largest function of a user code
)

// isCommonPropertyCode reports whether code is one of the common-property
// codes, which the cluster service handles itself: the functions (CLCTL_*)
// ENUM (20), GET_RO (21), GET (22), SET (23), VALIDATE (24), GET_FMTS (25)
// and GET_RESOURCE_FMTS (26) of the common properties.
func isCommonPropertyCode(code uint32) bool {
	if code&ctlUserBit != 0 {
		return false
	}
	f := (code >> ctlFunctionShift) & ctlFunctionMask
	return f >= 20 && f <= 26
}

// UserControlCode returns the Windows control code (CLUSCTL_USER_CODE with
// CLUS_OBJECT_RESOURCE) that ResourceControl routes to the resource's
// resource.Controller as code: a resource's own codes start at
// resource.FirstResourceControlCode, and the Windows code carries
// code - FirstResourceControlCode as its user function. It returns an error
// wrapping resource.ErrUnsupported for a code below
// FirstResourceControlCode (the engine's) or too large for a user function.
func UserControlCode(code resource.ControlCode) (uint32, error) {
	if code < resource.FirstResourceControlCode || uint64(code-resource.FirstResourceControlCode) > maxUserFunction {
		return 0, fmt.Errorf("wsfc: control code %#x has no Windows user code (allowed: %#x to %#x): %w",
			uint32(code), uint32(resource.FirstResourceControlCode), uint32(resource.FirstResourceControlCode)+maxUserFunction, resource.ErrUnsupported)
	}
	f := uint32(code-resource.FirstResourceControlCode) + ctlUserBase
	return objectResource<<ctlObjectShift | f<<ctlFunctionShift, nil
}

// resourceUserCode reports whether code is a user code for a resource, and
// the resource.ControlCode it stands for. The access bits (0 and 1) are
// ignored.
func resourceUserCode(code uint32) (resource.ControlCode, bool) {
	if code>>ctlObjectShift != objectResource || code&ctlUserBit == 0 {
		return 0, false
	}
	f := (code &^ ctlUserBit & (1<<ctlObjectShift - 1)) >> ctlFunctionShift
	return resource.FirstResourceControlCode + resource.ControlCode(f), true
}
