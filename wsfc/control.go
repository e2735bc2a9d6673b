package wsfc

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/resdll/resdll/properties"
)

// ResourceControl is the ResourceControl entry point
// (PRESOURCE_CONTROL_ROUTINE). in is the input buffer and out the output
// buffer; it returns the bytes written to out or, with ERROR_MORE_DATA, the
// size out needs. The codes:
//
//   - CLUSCTL_RESOURCE_UNKNOWN: ERROR_SUCCESS, which tells the caller that
//     the DLL processes control codes.
//   - the private-property codes, through the properties package (R51–R58),
//     with property lists in the Windows wire format ([EncodePropertyList],
//     [DecodePropertyList]): ENUM_PRIVATE_PROPERTIES (the names, a
//     MULTI_SZ), GET_PRIVATE_PROPERTIES (the values an administrator may
//     set), GET_RO_PRIVATE_PROPERTIES (the read-only ones),
//     VALIDATE_PRIVATE_PROPERTIES and SET_PRIVATE_PROPERTIES (all or
//     nothing, R53; ERROR_INVALID_PARAMETER listing every problem in the
//     cluster log, R52; ERROR_RESOURCE_PROPERTIES_STORED when the running
//     resource takes the values only at its next Online, R58), and
//     GET_PRIVATE_PROPERTY_FMTS ([EncodeFormatList]);
//   - a user code (CLUSCTL_USER_CODE, see [UserControlCode]): the
//     resource's resource.Controller, through the wrapper (R5, R6);
//   - the common-property codes: ERROR_INVALID_FUNCTION, because the cluster
//     service handles common properties itself; and ERROR_INVALID_FUNCTION
//     for every other code.
//
// The call runs in a goroutine of the resource's, on a copy of in, and the
// entry point waits for it at most the resource's PendingTimeout
// (DefaultPendingTimeout when that is resource.Never): then it answers
// ERROR_TIMEOUT and cancels the call's context. A set given up on this way
// may still store its values when it ends; the Resource Monitor only knows
// it did not answer.
func (h *Host) ResourceControl(id ResID, code uint32, in, out []byte) (n uint32, errno Errno) {
	e := h.lookup(id)
	what := fmt.Sprintf("ResourceControl %#08x", code)
	defer func() {
		if v := recover(); v != nil {
			n, errno = 0, h.panicked(e, what, v)
		}
	}()
	if e == nil {
		h.unknown("ResourceControl", id)
		return 0, ErrorInvalidHandle
	}
	in = bytes.Clone(in) // the caller's buffer is not ours once we return
	data, err := within(h, &e.bg, e.ctx, what, callBound(e.w.Policy()),
		func(ctx context.Context) ([]byte, error) { return e.control(ctx, code, in) }, nil,
		func(_ []byte, err error) { e.log.Warn(what+" returned after its time-out", "err", err) })
	var hp *panicError
	if errors.As(err, &hp) {
		return 0, h.panickedTo(e.log, hp.op, hp.value, hp.stack)
	}
	return reply(data, err, out)
}

// reply copies data to out, or says how large out must be.
func reply(data []byte, err error, out []byte) (uint32, Errno) {
	if err != nil {
		return 0, Code(err)
	}
	if len(data) > len(out) {
		return uint32(len(data)), ErrorMoreData
	}
	return uint32(copy(out, data)), ErrorSuccess
}

func unsupported(code uint32, why string) error {
	return fmt.Errorf("wsfc: control code %#08x: %s: %w", code, why, ErrorInvalidFunction)
}

func (e *entry) control(ctx context.Context, code uint32, in []byte) ([]byte, error) {
	schema := e.ht.t.Schema()
	switch {
	case code == CtlResourceUnknown:
		return nil, nil
	case isCommonPropertyCode(code):
		return nil, unsupported(code, "common properties are the cluster service's")
	case code == CtlResourceEnumPrivateProperties:
		names := make([]string, 0, schema.Len())
		for _, p := range schema.Properties() {
			names = append(names, p.Name)
		}
		return encodeNames(names), nil
	case code == CtlResourceGetPrivateProperties, code == CtlResourceGetROPrivateProperties:
		vals, err := e.mgr.Effective(ctx, e.name)
		if err != nil {
			return nil, err
		}
		readOnly := code == CtlResourceGetROPrivateProperties
		for _, name := range vals.Names() {
			if p, ok := schema.Lookup(name); ok && p.ReadOnly != readOnly {
				vals.Delete(name)
			}
		}
		return EncodePropertyList(schema, vals)
	case code == CtlResourceGetPrivatePropertyFmts:
		return EncodeFormatList(schema), nil
	case code == CtlResourceValidatePrivateProps:
		upd, err := DecodePropertyList(schema, in)
		if err == nil {
			_, err = e.mgr.Validate(ctx, e.name, upd, properties.SetOptions{})
		}
		if err != nil {
			e.log.Warn("private properties refused", "op", "validate", "err", err)
		}
		return nil, err
	case code == CtlResourceSetPrivateProperties:
		return nil, e.setProperties(ctx, in)
	}
	if rc, ok := resourceUserCode(code); ok {
		return e.w.Control(ctx, rc, in)
	}
	return nil, unsupported(code, "not handled by this resource type")
}

// setProperties decodes, validates, stores and applies new private property
// values (R52, R53, R58).
func (e *entry) setProperties(ctx context.Context, in []byte) error {
	schema := e.ht.t.Schema()
	upd, err := DecodePropertyList(schema, in)
	if err != nil {
		e.log.Warn("private properties refused", "op", "set", "err", err)
		return err
	}
	res, err := e.mgr.Set(ctx, e.name, upd, properties.SetOptions{
		Apply: func(ctx context.Context, vals properties.Values) error { return e.w.SetProperties(ctx, vals) },
	})
	if err != nil {
		e.log.Warn("private properties refused", "op", "set", "err", err)
		return err
	}
	rerr := res.Err()
	switch {
	case errors.Is(rerr, properties.ErrStored):
		e.log.Info("private properties stored; they take effect at the next Online", "err", rerr)
		return rerr
	case rerr != nil:
		// The values are stored; the application's configuration lags
		// (R54), which a reconcile repairs. The set itself succeeded.
		e.log.Warn("private properties stored, but the sync hook failed", "err", rerr)
	default:
		e.log.Info("private properties set")
	}
	return nil
}

// ResourceTypeControl is the ResourceTypeControl entry point
// (PRESOURCE_TYPE_CONTROL_ROUTINE): CLUSCTL_RESOURCE_TYPE_UNKNOWN answers
// ERROR_SUCCESS; CLUSCTL_RESOURCE_TYPE_GET_PRIVATE_RESOURCE_PROPERTY_FMTS
// answers the formats of the private properties of the type's resources
// (the type's schema, [EncodeFormatList]); every other code, among them the
// codes of the type's own private properties, which resdll types do not
// declare and the cluster service keeps, is ERROR_INVALID_FUNCTION. A type
// the host does not serve is ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND.
func (h *Host) ResourceTypeControl(typeName string, code uint32, in, out []byte) (n uint32, errno Errno) {
	defer func() {
		if v := recover(); v != nil {
			n, errno = 0, h.panicked(nil, fmt.Sprintf("ResourceTypeControl %q %#08x", typeName, code), v)
		}
	}()
	ht := h.lookupType(typeName)
	if ht == nil {
		h.log.Warn("ResourceTypeControl: type not served by this DLL", "type", typeName)
		return 0, ErrorResourceTypeNotFound
	}
	switch code {
	case CtlResourceTypeUnknown:
		return 0, ErrorSuccess
	case CtlResourceTypeGetResourcePropFmts:
		return reply(EncodeFormatList(ht.t.Schema()), nil, out)
	}
	return reply(nil, unsupported(code, "not handled for resource types"), out)
}
