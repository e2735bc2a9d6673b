//go:build windows && cgo && amd64

package wsfc

import (
	"fmt"
	"syscall"
	"unsafe"
)

// clusAPI holds the cluster registry functions of clusapi.dll, found when
// first called, so the DLL loads where clusapi.dll lacks one of them.
type clusAPI struct {
	openKey, closeKey, enumValue        *syscall.LazyProc
	createBatch, addCommand, closeBatch *syscall.LazyProc
}

func newClusAPI() *clusAPI {
	dll := syscall.NewLazyDLL("clusapi.dll")
	return &clusAPI{
		openKey:     dll.NewProc("ClusterRegOpenKey"),
		closeKey:    dll.NewProc("ClusterRegCloseKey"),
		enumValue:   dll.NewProc("ClusterRegEnumValue"),
		createBatch: dll.NewProc("ClusterRegCreateBatch"),
		addCommand:  dll.NewProc("ClusterRegBatchAddCommand"),
		closeBatch:  dll.NewProc("ClusterRegCloseBatch"),
	}
}

// Windows constants of the cluster registry (winnt.h, winerror.h,
// clusapi.h).
const (
	keyRead          = 0x20019 // KEY_READ
	errFileNotFound  = 2       // ERROR_FILE_NOT_FOUND
	errMoreData      = 234     // ERROR_MORE_DATA
	errNoMoreItems   = 259     // ERROR_NO_MORE_ITEMS
	clusregSetValue  = 1       // CLUSREG_SET_VALUE
	clusregCreateKey = 2       // CLUSREG_CREATE_KEY
	clusregDelValue  = 4       // CLUSREG_DELETE_VALUE
	maxValueName     = 16384   // the registry's longest value name, in characters
)

// call runs a cluster registry function, turning a missing function or a
// non-zero status into an error.
func call(p *syscall.LazyProc, args ...uintptr) (uintptr, error) {
	if err := p.Find(); err != nil {
		return 0, fmt.Errorf("wsfc: %s: %w", p.Name, err)
	}
	rc, _, _ := p.Call(args...)
	return rc, nil
}

// clusterKey is a resource's key in the cluster database, the HKEY the
// Resource Monitor passes to Open (it stays the Resource Monitor's to
// close).
type clusterKey struct {
	h   uintptr
	api *clusAPI
}

func (k clusterKey) ReadSubkey(subkey string) ([]KeyValue, error) {
	name, err := syscall.UTF16PtrFromString(subkey)
	if err != nil {
		return nil, fmt.Errorf("wsfc: subkey %q: %w", subkey, err)
	}
	var sub uintptr
	rc, err := call(k.api.openKey, k.h, uintptr(unsafe.Pointer(name)), keyRead, uintptr(unsafe.Pointer(&sub)))
	switch {
	case err != nil:
		return nil, err
	case rc == errFileNotFound:
		return nil, nil
	case rc != 0:
		return nil, fmt.Errorf("wsfc: ClusterRegOpenKey %q: %w", subkey, syscall.Errno(rc))
	}
	defer func() { _, _ = call(k.api.closeKey, sub) }()
	var out []KeyValue
	nameBuf := make([]uint16, 256)
	data := make([]byte, 1024)
	for i := uint32(0); ; {
		nameLen, dataLen, typ := uint32(len(nameBuf)), uint32(len(data)), uint32(0)
		rc, err := call(k.api.enumValue, sub, uintptr(i), uintptr(unsafe.Pointer(&nameBuf[0])), uintptr(unsafe.Pointer(&nameLen)),
			uintptr(unsafe.Pointer(&typ)), uintptr(unsafe.Pointer(&data[0])), uintptr(unsafe.Pointer(&dataLen)))
		switch {
		case err != nil:
			return nil, err
		case rc == errNoMoreItems:
			return out, nil
		case rc == errMoreData:
			nameBuf = make([]uint16, maxValueName+1)
			data = make([]byte, max(int(dataLen), 2*len(data)))
			continue
		case rc != 0:
			return nil, fmt.Errorf("wsfc: ClusterRegEnumValue %q #%d: %w", subkey, i, syscall.Errno(rc))
		}
		out = append(out, KeyValue{Name: syscall.UTF16ToString(nameBuf[:nameLen]), Type: typ, Data: append([]byte(nil), data[:dataLen]...)})
		i++
	}
}

func (k clusterKey) Commit(batch []KeyChange) error {
	var hb uintptr
	rc, err := call(k.api.createBatch, k.h, uintptr(unsafe.Pointer(&hb)))
	if err != nil {
		return err
	}
	if rc != 0 {
		return fmt.Errorf("wsfc: ClusterRegCreateBatch: %w", syscall.Errno(rc))
	}
	add := func(cmd uintptr, name string, typ uintptr, data []byte) error {
		w, err := syscall.UTF16PtrFromString(name)
		if err != nil {
			return fmt.Errorf("wsfc: %q: %w", name, err)
		}
		var p uintptr
		if len(data) > 0 {
			p = uintptr(unsafe.Pointer(&data[0]))
		}
		rc, err := call(k.api.addCommand, hb, cmd, uintptr(unsafe.Pointer(w)), typ, p, uintptr(len(data)))
		if err != nil {
			return err
		}
		if rc != 0 {
			return fmt.Errorf("wsfc: ClusterRegBatchAddCommand %q: %w", name, syscall.Errno(rc))
		}
		return nil
	}
	err = func() error {
		subkey := ""
		for i, c := range batch {
			// CLUSREG_CREATE_KEY names a key relative to the batch's key
			// and makes it the one the value commands apply to.
			if i == 0 || c.Subkey != subkey {
				subkey = c.Subkey
				if err := add(clusregCreateKey, subkey, 0, nil); err != nil {
					return err
				}
			}
			if c.Delete {
				if err := add(clusregDelValue, c.Name, RegBinary, nil); err != nil {
					return err
				}
				continue
			}
			if err := add(clusregSetValue, c.Name, RegBinary, c.Data); err != nil {
				return err
			}
		}
		return nil
	}()
	commit := uintptr(1)
	if err != nil {
		commit = 0
	}
	var failed int32
	rc, cerr := call(k.api.closeBatch, hb, commit, uintptr(unsafe.Pointer(&failed)))
	switch {
	case err != nil:
		return err
	case cerr != nil:
		return cerr
	case rc != 0:
		return fmt.Errorf("wsfc: ClusterRegCloseBatch (command %d failed): %w", failed, syscall.Errno(rc))
	}
	return nil
}
