package resource_test

import (
	"context"
	"fmt"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
)

// The transition table is data: Next says where an input leads, and refuses
// what the contract does not allow.
func ExampleNext() {
	s, _ := resource.Next(resource.Offline, resource.InputOnline)
	fmt.Println(s)
	_, err := resource.Next(resource.OfflinePending, resource.InputOnline)
	fmt.Println(err)
	// Output:
	// OnlinePending
	// Online in state OfflinePending: resource: invalid transition
}

type service struct{ bits *uint32 }

func (service) Online(context.Context) error  { return nil }
func (service) Offline(context.Context) error { return nil }
func (service) IsAlive(context.Context) error { return nil }

// A type whose resources share one service: loaded on the first Open,
// unloaded after the last release.
func ExampleNewSharedType() {
	typ, err := resource.NewSharedType("SMTP Virtual Server", nil, resource.Shared[*uint32]{
		Load:   func(context.Context) (*uint32, error) { fmt.Println("start SMTP service"); return new(uint32), nil },
		Unload: func(*uint32) error { fmt.Println("stop SMTP service"); return nil },
	}, func(_ context.Context, bits *uint32, name string, _ properties.Values) (resource.Resource, error) {
		return service{bits: bits}, nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	_, release1, _ := typ.Open(ctx, "SMTP-1", properties.Values{})
	_, release2, _ := typ.Open(ctx, "SMTP-2", properties.Values{})
	fmt.Println("open:", typ.Refs())
	_ = release1()
	_ = release2()
	fmt.Println("open:", typ.Refs())
	// Output:
	// start SMTP service
	// open: 2
	// stop SMTP service
	// open: 0
}
