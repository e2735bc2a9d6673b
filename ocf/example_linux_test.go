//go:build linux

package ocf_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/resdll/resdll/examples/process"
	"github.com/resdll/resdll/ocf"
	"github.com/resdll/resdll/wrapper"
)

// Pacemaker's calls, one Run each, as one program per action would see
// them: the process type of examples/process runs `sleep 1000`, and each
// action learns from the real world (the pid file) whether it runs (R7).
func ExampleAgent_Run() {
	dir, err := os.MkdirTemp("", "ocf-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	agent, err := ocf.New(process.Type(), ocf.Options{Name: "process"})
	if err != nil {
		fmt.Println(err)
		return
	}
	env := []string{
		"OCF_RESOURCE_INSTANCE=sleeper",
		"OCF_RESKEY_Command=sleep 1000",
		"OCF_RESKEY_StateDir=" + dir,
		"OCF_RESKEY_CRM_meta_timeout=20000", // milliseconds
	}
	run := func(action string, env ...string) {
		var stdout, stderr strings.Builder
		code := agent.Run(context.Background(), []string{action}, env, &stdout, &stderr)
		fmt.Printf("%-12s %d %v\n", action, code, code)
		if code != ocf.ExitSuccess && code != ocf.ExitNotRunning {
			fmt.Print(stderr.String())
		}
	}
	run("validate-all", append(env, "OCF_RESKEY_StopSignal=KILL")...)
	run("monitor", env...)
	run("start", env...)
	run("monitor", env...)
	run("stop", env...)
	run("monitor", env...)
	// Output:
	// validate-all 6 OCF_ERR_CONFIGURED
	// ocf-exit-reason:validate-all: invalid parameters: property "StopSignal": value KILL is not an allowed value (allowed: one of TERM, INT, HUP, QUIT, USR1, USR2)
	// monitor      7 OCF_NOT_RUNNING
	// start        0 OCF_SUCCESS
	// monitor      0 OCF_SUCCESS
	// stop         0 OCF_SUCCESS
	// monitor      7 OCF_NOT_RUNNING
}

// A program becomes an OCF resource agent for a resource type with one
// call; install it as /usr/lib/ocf/resource.d/<provider>/<name>. This is
// examples/ocf-agent, abridged: a 20 s policy, for which meta-data
// suggests 30 s time-outs (see Agent.MetaData).
func ExampleMain() {
	ocf.Main(process.Type(), ocf.Options{
		Name: "process",
		Policy: wrapper.Policy{
			PendingTimeout:   20 * time.Second,
			TerminateTimeout: 10 * time.Second,
			CheckTimeout:     20 * time.Second,
			IsAliveInterval:  10 * time.Second,
		},
	})
}
