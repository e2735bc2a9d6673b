// The 16 views of a Fake: one per combination of the optional interfaces
// Caps can hide. Mechanical; keep each view to the methods its name lists.

package resourcetest

import (
	"context"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
)

// view returns the view of f that shows the optional interfaces caps allows.
func view(f *Fake, caps Caps) resource.Resource {
	b := basic{f}
	bits := 0
	if !caps.NoTerminator {
		bits |= 1
	}
	if !caps.NoLooksAlive {
		bits |= 2
	}
	if !caps.NoController {
		bits |= 4
	}
	if !caps.NoPropertyOwner {
		bits |= 8
	}
	switch bits {
	case 0:
		return &v00{b}
	case 1:
		return &v01{b}
	case 2:
		return &v02{b}
	case 3:
		return &v03{b}
	case 4:
		return &v04{b}
	case 5:
		return &v05{b}
	case 6:
		return &v06{b}
	case 7:
		return &v07{b}
	case 8:
		return &v08{b}
	case 9:
		return &v09{b}
	case 10:
		return &v10{b}
	case 11:
		return &v11{b}
	case 12:
		return &v12{b}
	case 13:
		return &v13{b}
	case 14:
		return &v14{b}
	case 15:
		return &v15{b}
	}
	panic("unreachable")
}

// v00 shows Resource.
type v00 struct{ basic }

// v01 shows Resource, Terminator.
type v01 struct{ basic }

func (r *v01) Terminate(ctx context.Context) error { return r.f.terminate(ctx) }

// v02 shows Resource, LooksAliver.
type v02 struct{ basic }

func (r *v02) LooksAlive(ctx context.Context) error { return r.f.looksAlive(ctx) }

// v03 shows Resource, Terminator, LooksAliver.
type v03 struct{ basic }

func (r *v03) Terminate(ctx context.Context) error  { return r.f.terminate(ctx) }
func (r *v03) LooksAlive(ctx context.Context) error { return r.f.looksAlive(ctx) }

// v04 shows Resource, Controller.
type v04 struct{ basic }

func (r *v04) Control(ctx context.Context, code resource.ControlCode, in []byte) ([]byte, error) {
	return r.f.control(ctx, code, in)
}

// v05 shows Resource, Terminator, Controller.
type v05 struct{ basic }

func (r *v05) Terminate(ctx context.Context) error { return r.f.terminate(ctx) }
func (r *v05) Control(ctx context.Context, code resource.ControlCode, in []byte) ([]byte, error) {
	return r.f.control(ctx, code, in)
}

// v06 shows Resource, LooksAliver, Controller.
type v06 struct{ basic }

func (r *v06) LooksAlive(ctx context.Context) error { return r.f.looksAlive(ctx) }
func (r *v06) Control(ctx context.Context, code resource.ControlCode, in []byte) ([]byte, error) {
	return r.f.control(ctx, code, in)
}

// v07 shows Resource, Terminator, LooksAliver, Controller.
type v07 struct{ basic }

func (r *v07) Terminate(ctx context.Context) error  { return r.f.terminate(ctx) }
func (r *v07) LooksAlive(ctx context.Context) error { return r.f.looksAlive(ctx) }
func (r *v07) Control(ctx context.Context, code resource.ControlCode, in []byte) ([]byte, error) {
	return r.f.control(ctx, code, in)
}

// v08 shows Resource, PropertyOwner.
type v08 struct{ basic }

func (r *v08) ApplyProperties(ctx context.Context, vals properties.Values) error {
	return r.f.applyProperties(ctx, vals)
}

// v09 shows Resource, Terminator, PropertyOwner.
type v09 struct{ basic }

func (r *v09) Terminate(ctx context.Context) error { return r.f.terminate(ctx) }
func (r *v09) ApplyProperties(ctx context.Context, vals properties.Values) error {
	return r.f.applyProperties(ctx, vals)
}

// v10 shows Resource, LooksAliver, PropertyOwner.
type v10 struct{ basic }

func (r *v10) LooksAlive(ctx context.Context) error { return r.f.looksAlive(ctx) }
func (r *v10) ApplyProperties(ctx context.Context, vals properties.Values) error {
	return r.f.applyProperties(ctx, vals)
}

// v11 shows Resource, Terminator, LooksAliver, PropertyOwner.
type v11 struct{ basic }

func (r *v11) Terminate(ctx context.Context) error  { return r.f.terminate(ctx) }
func (r *v11) LooksAlive(ctx context.Context) error { return r.f.looksAlive(ctx) }
func (r *v11) ApplyProperties(ctx context.Context, vals properties.Values) error {
	return r.f.applyProperties(ctx, vals)
}

// v12 shows Resource, Controller, PropertyOwner.
type v12 struct{ basic }

func (r *v12) Control(ctx context.Context, code resource.ControlCode, in []byte) ([]byte, error) {
	return r.f.control(ctx, code, in)
}
func (r *v12) ApplyProperties(ctx context.Context, vals properties.Values) error {
	return r.f.applyProperties(ctx, vals)
}

// v13 shows Resource, Terminator, Controller, PropertyOwner.
type v13 struct{ basic }

func (r *v13) Terminate(ctx context.Context) error { return r.f.terminate(ctx) }
func (r *v13) Control(ctx context.Context, code resource.ControlCode, in []byte) ([]byte, error) {
	return r.f.control(ctx, code, in)
}
func (r *v13) ApplyProperties(ctx context.Context, vals properties.Values) error {
	return r.f.applyProperties(ctx, vals)
}

// v14 shows Resource, LooksAliver, Controller, PropertyOwner.
type v14 struct{ basic }

func (r *v14) LooksAlive(ctx context.Context) error { return r.f.looksAlive(ctx) }
func (r *v14) Control(ctx context.Context, code resource.ControlCode, in []byte) ([]byte, error) {
	return r.f.control(ctx, code, in)
}
func (r *v14) ApplyProperties(ctx context.Context, vals properties.Values) error {
	return r.f.applyProperties(ctx, vals)
}

// v15 shows Resource, Terminator, LooksAliver, Controller, PropertyOwner.
type v15 struct{ basic }

func (r *v15) Terminate(ctx context.Context) error  { return r.f.terminate(ctx) }
func (r *v15) LooksAlive(ctx context.Context) error { return r.f.looksAlive(ctx) }
func (r *v15) Control(ctx context.Context, code resource.ControlCode, in []byte) ([]byte, error) {
	return r.f.control(ctx, code, in)
}
func (r *v15) ApplyProperties(ctx context.Context, vals properties.Values) error {
	return r.f.applyProperties(ctx, vals)
}
