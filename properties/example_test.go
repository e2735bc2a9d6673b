package properties_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/resdll/resdll/properties"
)

// Declare the private properties of a resource type (R50), then read typed
// values: the defaults, with an administrator's values set on top.
func Example() {
	schema, err := properties.NewSchema(
		properties.Property{
			Name:        "VirtualServer",
			Kind:        properties.String,
			Description: "the SMTP virtual server this resource switches",
			Required:    true,
		},
		properties.Property{
			Name:    "Port",
			Kind:    properties.Uint32,
			Default: uint32(25),
			Min:     uint32(1),
			Max:     uint32(65535),
		},
		properties.Property{
			Name:       "PollInterval",
			Kind:       properties.Duration,
			Default:    5 * time.Second,
			Min:        time.Second,
			Reloadable: true,
		},
	)
	if err != nil {
		fmt.Println(err)
		return
	}

	var set properties.Values
	_ = set.Set("VirtualServer", "SMTP-1")
	_ = set.Set("Port", uint32(587))
	vals := schema.Defaults().Merge(set)

	server, _ := vals.GetString("VirtualServer")
	port, _ := vals.GetUint32("Port")
	poll, _ := vals.GetDuration("PollInterval")
	fmt.Println(server, port, poll)

	// A wrong kind or a missing name is an error, never a panic.
	_, err = vals.GetInt64("Port")
	fmt.Println(errors.Is(err, properties.ErrInvalid))
	_, err = vals.GetBool("Verbose")
	fmt.Println(errors.Is(err, properties.ErrNotSet))
	// Output:
	// SMTP-1 587 5s
	// true
	// true
}

// NewSchema reports every problem with the declarations at once, each
// naming the property, what was wrong and what is allowed (R52).
func ExampleNewSchema_invalid() {
	_, err := properties.NewSchema(
		properties.Property{Name: "Port", Kind: properties.Uint32, Default: uint32(0), Min: uint32(1)},
		properties.Property{Name: "Verbose", Kind: properties.Bool, Max: true},
	)
	fmt.Println(errors.Is(err, properties.ErrInvalid))
	fmt.Println(err)
	// Output:
	// true
	// property "Port": Default 0 is out of range (allowed: 1 or more)
	// property "Verbose": Max is set on a bool property (allowed: Min and Max only on int64, uint32, uint64 and duration properties)
}
