//go:build linux

package bboltstore

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/resdll/resdll/properties"
)

// R56: a memory fault (SIGBUS on a mapped file cut short under the map,
// what a truncated database file does to bbolt) is turned into a panic and
// then into ErrCorrupt, instead of crashing the process.
func TestProtectRecoversMemoryFault(t *testing.T) {
	path := filepath.Join(t.TempDir(), "props.db")
	s, err := Open(context.Background(), path, Options{})
	require.NoError(t, err)
	defer s.Close()

	f, err := os.Create(filepath.Join(t.TempDir(), "mapped"))
	require.NoError(t, err)
	defer f.Close()
	size := os.Getpagesize()
	require.NoError(t, f.Truncate(int64(size)))
	mem, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
	require.NoError(t, err)
	defer func() { _ = syscall.Munmap(mem) }()
	require.NoError(t, f.Truncate(0))

	var sink byte
	err = s.protect(func() error {
		sink = mem[size/2] // faults: the page is gone from the file
		return nil
	})
	_ = sink
	require.ErrorIs(t, err, properties.ErrCorrupt)
	require.Contains(t, err.Error(), "bbolt panicked")
	err = s.View(context.Background(), func(properties.Tx) error { return nil })
	require.ErrorIs(t, err, properties.ErrCorrupt, "the store refuses work after a fault")
}
