//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package bboltstore

import (
	"errors"
	"os"
	"syscall"
)

// lockFile takes the exclusive lock bbolt itself takes (flock on the same
// open file), without waiting, so the file is checked while no other
// process can write it. bbolt's own flock on the same descriptor then
// succeeds at once.
func lockFile(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return ErrLocked
	}
	return err
}

// syncDir makes a new directory entry in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer func() { _ = d.Close() }()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) { // some file systems cannot sync a directory
		return err
	}
	return nil
}
