// Package process is a resource type that runs a real OS process (CONTRACT
// R7, R10–R23 and R50–R58 for one program): the type the OCF agent reuses,
// with a runnable demo in cmd/processdemo.
//
// The program is given as an argument list, Command, and started without a
// shell. It runs on Linux only (5.3 or newer, for pidfd); on other systems
// the package is empty.
//
// # The entry points
//
//   - Online starts the program in a process group of its own, records its
//     identity in a pid file under StateDir (see [Record]), and returns when
//     it is ready: when it has started (its exec succeeded), the ReadyFile
//     exists (when one is set) and StartGrace has passed (when set). A
//     program that exits before it is ready fails the Online with its exit
//     status; a cancelled context (the pending timeout, R11) kills its group.
//     Online reports progress once the program has started (R13).
//   - A goroutine per running program waits for it to exit, parked in the
//     runtime's poller on a pidfd; an exit the resource did not cause is
//     reported at once through the [resource.ReportFunc] (R23), so the
//     wrapper sees it without waiting for a health check.
//   - IsAlive answers nil while the program runs and an error wrapping
//     [resource.ErrNotRunning] once it is gone. A resource that runs nothing
//     yet answers from the pid file: a fresh resource in a fresh program
//     finds a running instance there and adopts it (R7's Probe), watching
//     and stopping it as if it had started it. Online, too, adopts a
//     running instance rather than start a second one.
//   - Offline sends StopSignal (default SIGTERM) to the group and waits for
//     the program to exit, however long its context allows (the wrapper
//     escalates to Terminate at the pending timeout, R16). Terminate sends
//     SIGKILL to the group and waits. Once the program (the group's leader)
//     has exited, what is left of its group is sent SIGKILL and waited for,
//     and the pid file removed: when Offline or Terminate returns nil, no
//     process of the group runs.
//   - Close kills a program still running and waits for it, at most
//     [KillWait]; [Process.Detach] instead leaves it running for a later
//     program to adopt.
//
// # Errors
//
// Bad property values are refused when the resource is opened, every
// problem at once, each naming its property (R52): the error wraps
// [resource.ErrNotConfigured] and properties.ErrInvalid. At Online, a
// program that cannot be found is [resource.ErrNotInstalled], a permission
// refused (to run it, to write the pid file, to signal it)
// [resource.ErrPermission], and a missing WorkingDirectory or directory of
// the LogFile [resource.ErrNotInstalled]: like a missing program, it is
// missing on this host, and another host may have it (an OCF agent answers
// "not installed", which bans the resource from this node only).
//
// # Identity
//
// The pid file names the process by its pid, its start time (in clock ticks
// after boot, from /proc/<pid>/stat) and the boot's id, and records the
// argument list. A recorded process whose pid is gone, belongs to an earlier
// boot or has another start time (the pid was reused) is not running; one
// with the recorded start time whose command line differs from the record
// is an error, not "not running": something is wrong that a person should
// look at. (So a program that rewrites its own command line, as some
// daemons do to show their state, cannot be adopted.) The pid file must be
// a regular file owned by this program's user, and it must not name this
// program or its process group.
//
// What is signalled is the recorded process group, and the process itself
// through its pidfd. The watcher does not reap an exited child: until
// Offline, Terminate, Online or Close cleans up, the unreaped leader keeps
// the group's id from being reused. An adopted process is not this
// program's child, so that guarantee does not hold for it: between its exit
// and the clean-up its group id could in principle be reused, as with
// every tool that signals a pid from a file.
//
// # Hosts whose program ends before the process does
//
// An OCF agent's start and monitor actions run in a short-lived program:
// closing the wrapper would kill the process (Close terminates what runs,
// R18). Such a host calls [Process.Detach] before closing, and the next
// program adopts the process from the pid file.
package process
