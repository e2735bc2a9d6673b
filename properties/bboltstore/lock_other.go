//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package bboltstore

import "os"

// lockFile does nothing here: the file is checked without a lock, and
// bbolt's own lock (which waits up to lockTimeout) keeps a second writer
// out.
func lockFile(*os.File) error { return nil }

// syncDir does nothing here: not every system can sync a directory.
func syncDir(string) error { return nil }
