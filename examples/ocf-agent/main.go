//go:build linux

// Command ocf-agent is the Process resource type (examples/process) as a
// Pacemaker OCF resource agent: a program, given as an argument list, that
// Pacemaker starts, monitors and stops on a node of the cluster. The same
// type runs in-process under resdll's monitor (examples/process/cmd/processdemo).
//
// Build it and install it under a provider directory of your own:
//
//	go build -o process ./examples/ocf-agent
//	install -D -m 0755 process /usr/lib/ocf/resource.d/resdll/process
//
// then try it with Pacemaker's own tools, with no cluster:
//
//	ocf-tester -n sleeper -o Command="sleep 1000" -o StateDir=/run/resdll \
//		/usr/lib/ocf/resource.d/resdll/process
//
// The README's section "Running a resource under Pacemaker" shows the
// primitive and the pcs and crm commands that create it.
package main

import (
	"log/slog"
	"os"
	"time"

	"github.com/resdll/resdll/examples/process"
	"github.com/resdll/resdll/ocf"
	"github.com/resdll/resdll/wrapper"
)

// Version is the agent's version in its meta-data.
const Version = "1.0"

func main() {
	level := slog.LevelInfo
	if os.Getenv("HA_debug") == "1" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ocf.Main(process.NewType(process.Options{Logger: log}), options(log))
}

// options are the agent's options: 20 s for start, stop and monitor, 10 s
// for a stop's escalation to Terminate, a monitor every 10 s. Meta-data's
// time-out hints are then 30 s: the time-outs that give each operation its
// full 20 s after the agent's margin and clean-up share (ocf.Agent.MetaData).
func options(log *slog.Logger) ocf.Options {
	return ocf.Options{
		Name:      "process",
		Version:   Version,
		ShortDesc: "Runs a program, given as an argument list (resdll's Process type)",
		LongDesc: "Starts a program in a process group of its own and records it in a pid file under StateDir; " +
			"monitor finds it again through that file, stop sends StopSignal and, when the program does not exit " +
			"in time, SIGKILL to its group. Built with the resdll library (examples/process).",
		Policy: wrapper.Policy{
			PendingTimeout:   20 * time.Second,
			TerminateTimeout: 10 * time.Second,
			CheckTimeout:     20 * time.Second,
			IsAliveInterval:  10 * time.Second,
		},
		Logger: log,
	}
}
