package wsfc_test

import (
	"context"
	"fmt"

	"github.com/benbjohnson/clock"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/wsfc"
)

// printer is a Resource Monitor that hands each status report on.
type printer struct{ reports chan wsfc.Status }

func (p printer) SetResourceStatus(_ wsfc.ResourceHandle, st wsfc.Status) wsfc.ExitState {
	p.reports <- st
	return wsfc.ResourceExitStateContinue
}
func (printer) LogEvent(wsfc.ResourceHandle, wsfc.LogLevel, string) {}

// disk is a resource whose Online reports progress once the disk spins,
// and succeeds once it is mounted.
type disk struct{ spun, mounted chan struct{} }

func (d disk) Online(ctx context.Context) error {
	for i, step := range []chan struct{}{d.spun, d.mounted} {
		select {
		case <-step:
		case <-ctx.Done():
			return ctx.Err()
		}
		if i == 0 {
			resource.Progress(ctx) // the Resource Monitor gets a new checkpoint (R13)
		}
	}
	return nil
}
func (disk) Offline(context.Context) error { return nil }
func (disk) IsAlive(context.Context) error { return nil }

// A host serving one type, driven as the Resource Monitor drives a
// resource DLL: Startup, Open, Online (pending, a progress report, the
// outcome), IsAlive, Close.
func ExampleHost() {
	d := disk{spun: make(chan struct{}), mounted: make(chan struct{})}
	typ, _ := resource.NewType("Disk", nil, func(context.Context, string, properties.Values) (resource.Resource, error) {
		return d, nil
	})
	h, _ := wsfc.NewHost(wsfc.Options{Clock: clock.NewMock(),
		Store: func(string, wsfc.Key) (properties.Store, error) { return properties.NewMemStore(), nil }})
	_ = h.Register(typ, wsfc.TypeOptions{})

	mon := printer{reports: make(chan wsfc.Status, 4)}
	_, code := h.Startup("Disk", 0x100, 0x100, mon)
	fmt.Println("Startup:", code)
	_, code = h.Startup("Disk", 0x200, 0x200, mon)
	fmt.Println("Startup of version 2:", code)

	table, _ := h.Startup("Disk", 0x100, 0x100, mon)
	id, _ := table.Open("Disk Q:", nil, 1)
	_, code = h.Online(id)
	fmt.Println("Online:", code)
	close(d.spun)
	st := <-mon.reports
	fmt.Println("status:", st.State, "checkpoint", st.CheckPoint)
	close(d.mounted)
	st = <-mon.reports
	fmt.Println("status:", st.State, "checkpoint", st.CheckPoint)
	fmt.Println("IsAlive:", h.IsAlive(id))
	h.Close(id)
	fmt.Println("IsAlive after Close:", h.IsAlive(id))
	// Output:
	// Startup: ERROR_SUCCESS (0)
	// Startup of version 2: ERROR_REVISION_MISMATCH (1306)
	// Online: ERROR_IO_PENDING (997)
	// status: OnlinePending checkpoint 1
	// status: Online checkpoint 2
	// IsAlive: true
	// IsAlive after Close: false
}

// A property list in the Windows wire format: the count, then the name, the
// value and the end mark of each property.
func ExampleEncodePropertyList() {
	schema := properties.MustSchema(properties.Property{Name: "Port", Kind: properties.Uint32})
	vals, _ := properties.NewValues(map[string]any{"Port": uint32(8080)})
	b, _ := wsfc.EncodePropertyList(schema, vals)
	fmt.Printf("% x\n", b)
	back, _ := wsfc.DecodePropertyList(schema, b)
	port, _ := back.GetUint32("Port")
	fmt.Println("Port:", port)
	// Output:
	// 01 00 00 00 03 00 04 00 0a 00 00 00 50 00 6f 00 72 00 74 00 00 00 00 00 02 00 01 00 04 00 00 00 90 1f 00 00 00 00 00 00
	// Port: 8080
}

// The Windows control code a client sends to reach a resource's own
// control code.
func ExampleUserControlCode() {
	code, _ := wsfc.UserControlCode(resource.FirstResourceControlCode + 1)
	fmt.Printf("0x%08X\n", code)
	// Output: 0x01800004
}
