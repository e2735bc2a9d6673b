//go:build linux

package process

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// System calls the syscall package does not name. Both were added after the
// architectures' tables were unified, so the numbers are the same on every
// Linux architecture Go supports.
const (
	sysPidfdSendSignal = 424 // pidfd_send_signal(2), Linux 5.1
	sysPidfdOpen       = 434 // pidfd_open(2), Linux 5.3
	pPidfd             = 3   // waitid(2)'s P_PIDFD, Linux 5.4
)

// Values of poll(2) and of siginfo_t's si_code for SIGCHLD.
const (
	pollIn    = 0x1
	pollHup   = 0x10
	pollNval  = 0x20
	cldExited = 1
	cldKilled = 2
	cldDumped = 3
)

// pidfdOpen returns a pidfd for pid (close-on-exec). A pid that names no
// process gives syscall.ESRCH.
func pidfdOpen(pid int) (int, error) {
	fd, _, errno := syscall.Syscall(sysPidfdOpen, uintptr(pid), 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

// pidfdFile makes fd, a pidfd, an *os.File in the runtime's poller, so a
// goroutine can wait for the process to exit without holding a thread, and
// Close wakes it. It takes fd over, closing it on error.
func pidfdFile(fd, pid int) (*os.File, error) {
	if err := syscall.SetNonblock(fd, true); err != nil {
		_ = syscall.Close(fd)
		return nil, fmt.Errorf("pidfd of process %d: %w", pid, err)
	}
	f := os.NewFile(uintptr(fd), "pidfd:"+strconv.Itoa(pid))
	// A file outside the poller has no deadlines: the cheapest way to ask.
	if err := f.SetReadDeadline(time.Time{}); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("the pidfd of process %d cannot be polled (Linux 5.3 or newer is needed): %w", pid, err)
	}
	return f, nil
}

// waitExited blocks until the process of pidfd f has exited (nil), or f is
// closed (an error wrapping os.ErrClosed).
func waitExited(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var perr error
	err = rc.Read(func(fd uintptr) bool {
		var ready bool
		ready, perr = polledIn(int(fd))
		return ready || perr != nil
	})
	if err != nil {
		return err
	}
	return perr
}

// exitedNow reports, without blocking, whether the process of pidfd f has
// exited; false when f is closed.
func exitedNow(f *os.File) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	var exited bool
	_ = rc.Control(func(fd uintptr) { exited, _ = polledIn(int(fd)) })
	return exited
}

// polledIn asks, without blocking, whether pidfd fd is readable: whether its
// process has exited.
func polledIn(fd int) (bool, error) {
	type pollFd struct {
		fd      int32
		events  int16
		revents int16
	}
	pfd := pollFd{fd: int32(fd), events: pollIn}
	var zero syscall.Timespec // do not block
	for {
		n, _, errno := syscall.Syscall6(syscall.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&zero)), 0, 0, 0)
		switch {
		case errno == syscall.EINTR:
			continue
		case errno != 0:
			return false, fmt.Errorf("ppoll: %w", errno)
		case n == 1 && pfd.revents&pollNval != 0:
			return false, errors.New("ppoll: the pidfd is not open")
		}
		return n == 1 && pfd.revents&(pollIn|pollHup) != 0, nil
	}
}

// sendSignal sends sig to the process of pidfd f: never to another process
// that reuses its pid. A process that has exited is not an error.
func sendSignal(f *os.File, sig syscall.Signal) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall6(sysPidfdSendSignal, fd, uintptr(sig), 0, 0, 0, 0)
	}); err != nil {
		return err
	}
	if errno != 0 && errno != syscall.ESRCH {
		return errno
	}
	return nil
}

// exitText says how the process of pidfd f ended, as "exited with status
// 1" or "was killed by signal 9 (killed)", without reaping it; "exited"
// when that cannot be told (the process is not this program's child).
func exitText(f *os.File) string {
	rc, err := f.SyscallConn()
	if err != nil {
		return "exited"
	}
	var info [128]byte // siginfo_t
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall6(syscall.SYS_WAITID, pPidfd, fd, uintptr(unsafe.Pointer(&info)),
			syscall.WEXITED|syscall.WNOHANG|syscall.WNOWAIT, 0, 0)
	}); err != nil || errno != 0 {
		return "exited"
	}
	// si_signo, si_errno, si_code, then the union, aligned to a pointer:
	// its SIGCHLD part is si_pid, si_uid, si_status.
	code := int32(binary.NativeEndian.Uint32(info[8:]))
	union := 3 * 4
	if unsafe.Sizeof(uintptr(0)) == 8 {
		union = 16
	}
	status := int32(binary.NativeEndian.Uint32(info[union+8:]))
	switch code {
	case cldExited:
		return fmt.Sprintf("exited with status %d", status)
	case cldKilled:
		return fmt.Sprintf("was killed by signal %d (%v)", status, syscall.Signal(status))
	case cldDumped:
		return fmt.Sprintf("was killed by signal %d (%v, core dumped)", status, syscall.Signal(status))
	}
	return "exited"
}

// procStat is what /proc/<pid>/stat says of a process.
type procStat struct {
	state byte   // R, S, D, Z, X, …
	pgrp  int    // its process group
	start uint64 // its start time, in clock ticks after boot
}

// gone reports whether the process has exited (a zombie not yet reaped).
func (s procStat) gone() bool { return s.state == 'Z' || s.state == 'X' }

// readStat reads /proc/<pid>/stat. A pid that names no process gives an
// error for which errors.Is(err, fs.ErrNotExist) holds.
func readStat(pid int) (procStat, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	// "pid (comm) state ppid pgrp …": comm may hold anything, even ")".
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 20 || len(f[0]) != 1 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields after the command name", pid, len(f))
	}
	pgrp, err1 := strconv.Atoi(f[2])
	start, err2 := strconv.ParseUint(f[19], 10, 64) // field 22 of the line
	if err := errors.Join(err1, err2); err != nil {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return procStat{state: f[0][0], pgrp: pgrp, start: start}, nil
}

// readCmdline reads the argument list of pid from /proc/<pid>/cmdline, at
// most maxPidFile bytes of it.
func readCmdline(pid int) ([]string, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPidFile))
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, nil
	}
	return strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00"), nil
}

// bootID returns the boot's id, or "" when it cannot be read.
func bootID() string {
	data, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// awaitGroup waits until process group pgid has no live member this
// program may signal, or ctx ends. The caller has sent the group SIGKILL:
// its members cannot fork any more, so one scan of /proc finds them all.
// Each is waited for through a pidfd, so a reused pid is never mistaken for
// a member.
func awaitGroup(ctx context.Context, pgid int) error {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return fmt.Errorf("listing the members of process group %d: %w", pgid, err)
	}
	var left []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == pgid {
			continue // not a process, or the leader, which the caller waited for
		}
		if st, err := readStat(pid); err != nil || st.pgrp != pgid || st.gone() {
			continue
		}
		if exited, err := awaitMember(ctx, pid, pgid); err != nil {
			return err
		} else if !exited {
			left = append(left, pid)
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("process group %d still has %v after SIGKILL: %w", pgid, left, context.Cause(ctx))
	}
	return nil
}

// awaitMember waits until pid, if it is still a member of group pgid that
// this program may signal, has exited (true), or ctx ends (false).
func awaitMember(ctx context.Context, pid, pgid int) (bool, error) {
	fd, err := pidfdOpen(pid)
	if err != nil {
		return true, nil // gone already (ESRCH), or not ours to wait for
	}
	f, err := pidfdFile(fd, pid)
	if err != nil {
		return false, err
	}
	defer f.Close()
	// The pidfd names pid now: is it (still) a member, and ours to kill?
	st, err := readStat(pid)
	if err != nil || st.pgrp != pgid || st.gone() || syscall.Kill(pid, 0) != nil {
		return true, nil
	}
	stop := context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Unix(1, 0)) }) // wakes waitExited
	defer stop()
	return waitExited(f) == nil, nil
}
