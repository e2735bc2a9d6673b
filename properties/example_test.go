package properties_test

import (
	"context"
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

// exchangeConfig stands in for the application's own configuration (the
// metabase EXSETDATA writes): the sync hook pushes into it, reads it back,
// and an administrator can change it directly.
type exchangeConfig struct {
	vals map[string]properties.Values
}

func (c *exchangeConfig) Push(_ context.Context, resource string, v properties.Values) error {
	c.vals[resource] = v.Clone()
	return nil
}

func (c *exchangeConfig) Pull(_ context.Context, resource string) (properties.Values, error) {
	return c.vals[resource].Clone(), nil
}

// Declare a schema, set values through the control-code handler (R51,
// R53), then find and undo a change made in the application's own console
// (R55).
func Example_setAndDrift() {
	ctx := context.Background()
	schema := properties.MustSchema(
		properties.Property{Name: "VirtualServer", Kind: properties.String, Required: true},
		properties.Property{Name: "Port", Kind: properties.Uint32, Default: uint32(25), Min: uint32(1), Max: uint32(65535)},
		properties.Property{Name: "Timeout", Kind: properties.Duration, Default: 30 * time.Second, Reloadable: true},
	)
	store := properties.NewMemStore() // bboltstore.Open for a file on disk
	defer store.Close()
	app := &exchangeConfig{vals: map[string]properties.Values{}}
	m, err := properties.NewManager(properties.Options{Store: store, Schema: schema, Hook: app})
	if err != nil {
		fmt.Println(err)
		return
	}

	// Bad input: every problem at once, and nothing is stored.
	_, err = m.HandleSet(ctx, "SMTP-1", []byte(`{"Port":0,"Timeout":30}`), nil)
	fmt.Println(err)

	// Good input: stored, pushed to the application, applied.
	out, err := m.HandleSet(ctx, "SMTP-1", []byte(`{"VirtualServer":"SMTP-1","Port":587}`), nil)
	fmt.Println(string(out), err)

	// Someone changes the port in the application's own console.
	edited := app.vals["SMTP-1"]
	_ = edited.Set("Port", uint32(2525))
	app.vals["SMTP-1"] = edited
	diffs, _ := m.Drift(ctx, "SMTP-1")
	fmt.Println(diffs)

	// Push the cluster's values back to the application.
	_, err = m.Reconcile(ctx, "SMTP-1", properties.ToApplication, properties.SetOptions{})
	diffs, _ = m.Drift(ctx, "SMTP-1")
	fmt.Println(len(diffs), err)
	// Output:
	// properties: Parameters of "SMTP-1": property "Timeout": value is a number, not a duration string (allowed: a duration string such as "30s", "1h30m" or "250ms")
	// property "Port": value 0 is out of range (allowed: 1 to 65535)
	// property "VirtualServer": is required but has no value (allowed: a value of kind string)
	// {"outcome":"applied","synced":true,"values":{"VirtualServer":"SMTP-1","Port":587,"Timeout":"30s"}} <nil>
	// [Port: stored 587, application 2525]
	// 0 <nil>
}
