package wsfc

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
)

func TestCode(t *testing.T) {
	for _, c := range []struct {
		err  error
		want Errno
	}{
		{nil, ErrorSuccess},
		{fmt.Errorf("wrapped: %w", ErrorAccessDenied), ErrorAccessDenied},
		{fmt.Errorf("both: %w, %w", Errno(1234), resource.ErrNotConfigured), 1234}, // an Errno wins
		{errors.Join(properties.ErrStored, properties.ErrOutOfSync), ErrorResourcePropertiesStored},
		{fmt.Errorf("x: %w", ErrMalformed), ErrorInvalidData},
		{&properties.PropertyError{Name: "P"}, ErrorInvalidParameter},
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
		{&resource.PanicError{Op: resource.OpOnline, Value: "x"}, ErrorResourceFailed},
		{errors.New("anything else"), ErrorResourceFailed},
	} {
		if got := Code(c.err); got != c.want {
			t.Errorf("Code(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	if s := ErrorIOPending.Error(); s != "ERROR_IO_PENDING (997)" {
		t.Errorf("Error() = %q", s)
	}
	if s := Errno(4321).Error(); s != "Windows error 4321" {
		t.Errorf("Error() = %q", s)
	}
}

// User control codes follow CLUSCTL_USER_CODE and come back as the
// resource's codes.
func TestUserControlCode(t *testing.T) {
	for _, c := range []struct {
		code resource.ControlCode
		want uint32
	}{
		{resource.FirstResourceControlCode, 0x01800000},
		{resource.FirstResourceControlCode + 1, 0x01800004},
		{resource.FirstResourceControlCode + 3, 0x0180000C},
		{resource.FirstResourceControlCode + maxUserFunction, 0x01FFFFFC},
	} {
		got, err := UserControlCode(c.code)
		if err != nil || got != c.want {
			t.Errorf("UserControlCode(%#x) = %#08x, %v; want %#08x", uint32(c.code), got, err, c.want)
		}
		back, ok := resourceUserCode(got | 2) // the access bits are ignored
		if !ok || back != c.code {
			t.Errorf("resourceUserCode(%#08x) = %#x, %v", got, uint32(back), ok)
		}
	}
	for _, bad := range []resource.ControlCode{0, resource.FirstResourceControlCode - 1, resource.FirstResourceControlCode + maxUserFunction + 1} {
		if _, err := UserControlCode(bad); !errors.Is(err, resource.ErrUnsupported) {
			t.Errorf("UserControlCode(%#x) = %v, want ErrUnsupported", uint32(bad), err)
		}
	}
	for _, code := range []uint32{CtlResourceGetPrivateProperties, 0x02800004, 0x00800004} {
		if _, ok := resourceUserCode(code); ok {
			t.Errorf("%#08x taken for a resource user code", code)
		}
	}
	for code, want := range map[uint32]bool{CtlResourceGetCommonProperties: true, CtlResourceSetCommonProperties: true,
		CtlResourceEnumCommonProperties: true, 0x01000069: true, CtlResourceGetPrivateProperties: false, 0x01800058: false} {
		if isCommonPropertyCode(code) != want {
			t.Errorf("isCommonPropertyCode(%#08x) = %v", code, !want)
		}
	}
}

func TestStateNames(t *testing.T) {
	for s, want := range map[resource.State]ResourceState{resource.Unknown: StateUnknown, resource.Offline: StateOffline,
		resource.OnlinePending: StateOnlinePending, resource.Online: StateOnline, resource.OfflinePending: StateOfflinePending, resource.Failed: StateFailed} {
		if got := stateOf(s); got != want {
			t.Errorf("stateOf(%v) = %v, want %v", s, got, want)
		}
		if want.String() != s.String() {
			t.Errorf("%v named %q", want, want.String())
		}
	}
	if ResourceState(7).String() != "ResourceState(7)" {
		t.Error(ResourceState(7).String())
	}
}
