//go:build linux

package process_test

import (
	"context"
	"fmt"
	"os"

	"github.com/resdll/resdll/examples/process"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/wrapper"
)

// A real process under a wrapper: Online starts `sleep 1000` in a process
// group of its own, Offline sends it SIGTERM and waits for it.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "process-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	vals, _ := properties.NewValues(map[string]any{
		process.PropCommand:  []string{"sleep", "1000"}, // no shell: the argument list as it is
		process.PropStateDir: dir,                       // where the pid file lives
	})
	res, release, err := process.Type().Open(ctx, "sleeper", vals)
	if err != nil {
		panic(err)
	}
	w, _ := wrapper.New(res, wrapper.Options{Name: "sleeper", Release: release})
	defer w.Close(ctx)

	_, _ = w.Online()
	fmt.Println(w.Wait(ctx), w.State())
	rec, _ := process.ReadPidFile(process.PidFilePath(dir, "sleeper"))
	fmt.Println("pid file names the process:", rec.Pid == res.(*process.Process).Pid())

	_, _ = w.Offline()
	fmt.Println(w.Wait(ctx), w.State())
	// Output:
	// <nil> Online
	// pid file names the process: true
	// <nil> Offline
}
