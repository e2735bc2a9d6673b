//go:build linux

package process

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// Record is what a pid file says of a process: who it is, so that a later
// program can find it again (R7) and tell it from a process that reuses its
// pid.
//
// The file has two lines: the pid alone, in decimal, as every reader of pid
// files expects (kill $(head -n1 file)); then the record as one JSON object:
//
//	4242
//	{"version":1,"pid":4242,"pgid":4242,"start":1234567,"boot":"1a6e94cc-…","argv":["/bin/sleep","1000"]}
type Record struct {
	// Version is the format's version: 1.
	Version int `json:"version"`
	// Pid is the process's id; Pgid its process group's, which Online makes
	// the pid itself (the process leads a group of its own).
	Pid  int `json:"pid"`
	Pgid int `json:"pgid"`
	// Start is when the process started, in clock ticks after boot (field
	// 22 of /proc/<pid>/stat): with the pid, it names one process.
	Start uint64 `json:"start"`
	// Boot is the boot's id (/proc/sys/kernel/random/boot_id) when the
	// process started; empty when it could not be read.
	Boot string `json:"boot"`
	// Argv is the argument list the process was started with.
	Argv []string `json:"argv"`
}

// recordVersion is the Record format written and read.
const recordVersion = 1

// maxPidFile bounds what ReadPidFile reads (R59): a Command of the largest
// size, every byte escaped, fits.
const maxPidFile = 1 << 20

// maxBase is the longest pid file name PidFilePath makes from a resource
// name; longer names are hashed (file names are at most 255 bytes).
const maxBase = 200

// PidFilePath returns the pid file of the resource named name under
// stateDir: <stateDir>/<name, path-escaped>.pid, or a name made of a hash of
// name when the escaped name is too long for a file name.
func PidFilePath(stateDir, name string) string {
	base := url.PathEscape(name)
	if base == "" || len(base) > maxBase {
		sum := sha256.Sum256([]byte(name))
		base = "resource-" + hex.EncodeToString(sum[:16])
	}
	return filepath.Join(stateDir, base+".pid")
}

// ReadPidFile reads and checks the pid file at path. The file must be a
// regular file (not a link), owned by this program's effective user, and
// hold a well-formed Record with a pid and group above 1 and a non-empty
// argument list: anything else is an error. A missing file is an error for
// which errors.Is(err, fs.ErrNotExist) holds.
func ReadPidFile(path string) (Record, error) {
	// O_NONBLOCK: a FIFO planted at path must not block the open.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return Record{}, fmt.Errorf("pid file %s is a symbolic link: %w", path, err)
		}
		return Record{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Record{}, err
	}
	if !st.Mode().IsRegular() {
		return Record{}, fmt.Errorf("pid file %s is not a regular file (%v)", path, st.Mode().Type())
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Geteuid() {
		return Record{}, fmt.Errorf("pid file %s is owned by uid %d, not by this program's uid %d", path, sys.Uid, os.Geteuid())
	}
	data, err := io.ReadAll(io.LimitReader(f, maxPidFile+1))
	if err != nil {
		return Record{}, err
	}
	if len(data) > maxPidFile {
		return Record{}, fmt.Errorf("pid file %s is larger than %d bytes", path, maxPidFile)
	}
	rec, err := parseRecord(data)
	if err != nil {
		return Record{}, fmt.Errorf("pid file %s: %w", path, err)
	}
	return rec, nil
}

// parseRecord parses and checks a pid file's content.
func parseRecord(data []byte) (Record, error) {
	first, rest, ok := bytes.Cut(data, []byte("\n"))
	if !ok {
		return Record{}, errors.New("no record after the pid line")
	}
	pid, err := strconv.Atoi(string(first))
	if err != nil {
		return Record{}, fmt.Errorf("the first line, %.20q, is not a pid", first)
	}
	var rec Record
	dec := json.NewDecoder(bytes.NewReader(rest))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return Record{}, fmt.Errorf("the record is not valid: %w", err)
	}
	switch {
	case rec.Version != recordVersion:
		return Record{}, fmt.Errorf("record version %d: allowed is %d", rec.Version, recordVersion)
	case rec.Pid != pid:
		return Record{}, fmt.Errorf("the pid line says %d, the record %d", pid, rec.Pid)
	case rec.Pid <= 1 || rec.Pgid <= 1:
		// Never 0, 1 or negative: kill(2) gives those special meanings.
		return Record{}, fmt.Errorf("pid %d, group %d: allowed are ids above 1", rec.Pid, rec.Pgid)
	case len(rec.Argv) == 0:
		return Record{}, errors.New("the record has no argument list")
	}
	return rec, nil
}

// writePidFile writes rec to path atomically: a temporary file in the same
// directory (mode 0600), synced, then renamed over path.
func writePidFile(path string, rec Record) (err error) {
	body, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	data := append(strconv.AppendInt(nil, int64(rec.Pid), 10), '\n')
	data = append(append(data, body...), '\n')
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// removePidFile removes the pid file at path if it still records rec's
// process, and leaves a file that names another (a newer start by another
// program) alone. A missing file is not an error.
func removePidFile(path string, rec Record) error {
	cur, err := ReadPidFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case cur.Pid != rec.Pid || cur.Start != rec.Start:
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
