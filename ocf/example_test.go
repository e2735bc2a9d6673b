package ocf_test

import (
	"errors"
	"fmt"

	"github.com/resdll/resdll/ocf"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
)

// The exit code of a failed action comes from the sentinel its error wraps.
func ExampleExitCodeOf() {
	for _, err := range []error{
		nil,
		fmt.Errorf("starting %q: %w", "/usr/sbin/httpd", resource.ErrNotInstalled),
		&properties.PropertyError{Name: "Port", Problem: "is 0", Allowed: "1 to 65535"},
		fmt.Errorf("Online did not return within 13.5s: %w", resource.ErrPendingTimeout),
		errors.New("the service answered 503"),
	} {
		code := ocf.ExitCodeOf(err)
		fmt.Println(int(code), code)
	}
	// Output:
	// 0 OCF_SUCCESS
	// 5 OCF_ERR_INSTALLED
	// 6 OCF_ERR_CONFIGURED
	// 1 OCF_ERR_GENERIC
	// 1 OCF_ERR_GENERIC
}
