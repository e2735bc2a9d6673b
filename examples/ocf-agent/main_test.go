//go:build linux

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// ocfRoot is where Pacemaker and ocf-tester find OCF resource agents:
// <ocfRoot>/resource.d/<provider>/<agent>.
const ocfRoot = "/usr/lib/ocf"

// needTool returns the path of a tool the test runs, looked up in PATH and
// then in /usr/sbin (where Debian puts ocf-tester and crm_resource, often
// outside a user's PATH). When it is missing the test fails under CI (the
// environment variable CI is set: .ci/run installs the tools) and is
// skipped otherwise, saying which Debian package has it.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		path, err = exec.LookPath("/usr/sbin/" + name)
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing but CI is set: install the Debian package %s (.ci/run does)", name, pkg)
		}
		t.Skipf("%s is missing: install the Debian package %s to run this test", name, pkg)
	}
	return path
}

// bounded returns a context that ends after d: every external tool the
// tests run is killed by then.
func bounded(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// randomHex returns n random bytes in hex.
func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// buildAgent builds this package and returns the binary's path.
func buildAgent(t *testing.T) string {
	t.Helper()
	gotool, err := exec.LookPath("go") // go test puts its own first in PATH
	if err != nil {
		t.Fatalf("the go command is not in PATH: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "process")
	start := time.Now()
	out, err := exec.CommandContext(bounded(t, 2*time.Minute), gotool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built the agent in %v", time.Since(start).Round(time.Millisecond))
	return bin
}

// install copies the agent to <ocfRoot>/resource.d/<provider>/process, for
// a provider of the test's own, and removes the provider when the test
// ends. It returns the provider and the agent's path. Writing there needs
// root: without it the test fails under CI and is skipped otherwise.
func install(t *testing.T, bin string) (provider, path string) {
	t.Helper()
	provider = "resdll-test-" + randomHex(t, 6)
	dir := filepath.Join(ocfRoot, "resource.d", provider)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("installing the agent: %v (the test must run as root under CI)", err)
		}
		t.Skipf("cannot install the agent under %s (run the test as root): %v", ocfRoot, err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("removing %s: %v", dir, err)
		}
	})
	if err := os.Chmod(dir, 0o755); err != nil { // whatever the umask
		t.Fatal(err)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, "process")
	if err := os.WriteFile(path, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o755); err != nil {
		t.Fatal(err)
	}
	return provider, path
}

// marker returns the argument list of a program the test can find again:
// sleep with a duration of its own (GNU sleep takes fractions).
func marker(t *testing.T) []string {
	n, err := strconv.ParseUint(randomHex(t, 4), 16, 32)
	if err != nil {
		t.Fatal(err)
	}
	return []string{"sleep", fmt.Sprintf("1000.%010d", n)}
}

// running returns the pids of live processes whose argument list is argv.
// (A zombie has an empty command line: it does not count.)
func running(argv []string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil || len(data) == 0 {
			continue
		}
		if slices.Equal(strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00"), argv) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// noLeftovers fails the test if a process of argv runs, and kills it when
// the test ends, so that a failure leaves nothing behind.
func noLeftovers(t *testing.T, argv []string) {
	t.Helper()
	if pids := running(argv); len(pids) > 0 {
		t.Errorf("%q still runs as %v", argv, pids)
	}
}

func killLeftovers(t *testing.T, argv []string) {
	t.Cleanup(func() {
		for _, pid := range running(argv) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

// Pacemaker's own ocf-tester finds no failure in the agent: meta-data
// that passes its DTD check (run as nobody too), validate-all, probes and
// monitors of a stopped and of a running resource (7 and 0), start of a
// started resource, stop of a stopped one, and the optional actions
// answered as unimplemented (3).
func TestOCFTester(t *testing.T) {
	tester := needTool(t, "ocf-tester", "resource-agents")
	needTool(t, "xmllint", "libxml2-utils")
	_, agent := install(t, buildAgent(t))
	argv := marker(t)
	killLeftovers(t, argv)
	state := t.TempDir()

	start := time.Now()
	cmd := exec.CommandContext(bounded(t, time.Minute), tester, "-n", "sleeper",
		"-o", "Command="+strings.Join(argv, " "), "-o", "StateDir="+state, agent)
	out, err := cmd.CombinedOutput()
	t.Logf("ocf-tester took %v:\n%s", time.Since(start).Round(time.Millisecond), out)
	if err != nil {
		t.Fatalf("ocf-tester: %v", err)
	}
	if !bytes.Contains(out, []byte(agent+" passed all tests")) || bytes.Contains(out, []byte("* rc=")) {
		t.Errorf("ocf-tester reported failures")
	}
	noLeftovers(t, argv)
}

// crm runs crm_resource with CIB_file pointing at cib, and returns its
// exit status and output.
func crm(ctx context.Context, t *testing.T, crmResource, cib string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.CommandContext(ctx, crmResource, args...)
	cmd.Env = append(os.Environ(), "CIB_file="+cib)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, string(out)
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return exit.ExitCode(), string(out)
	}
	t.Fatalf("crm_resource %q: %v\n%s", args, err, out)
	return -1, ""
}

// doneLine matches the line the agent logs to standard error when an action
// ends ("msg=done op=start resource=hung exit=OCF_ERR_GENERIC
// took=1.502s"), which crm_resource shows with the agent's output.
var doneLine = regexp.MustCompile(`(?m)\bmsg=done op=(\S+) .*\btook=(\S+)$`)

// agentTook returns how long action took by the agent's own clock, from
// the line it logs when the action ends.
func agentTook(out, action string) (time.Duration, bool) {
	for _, m := range doneLine.FindAllStringSubmatch(out, -1) {
		if m[1] != action {
			continue
		}
		d, err := time.ParseDuration(m[2])
		return d, err == nil
	}
	return 0, false
}

// cibXML is a CIB with the primitives the crm_resource test drives: all of
// class ocf, provider PROVIDER, type process.
const cibXML = `<cib crm_feature_set="3.0.0" validate-with="pacemaker-3.0" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config/>
    <nodes/>
    <resources>
      <primitive id="sleeper" class="ocf" provider="PROVIDER" type="process">
        <instance_attributes id="sleeper-ia">
          <nvpair id="sleeper-command" name="Command" value="SLEEPER"/>
          <nvpair id="sleeper-statedir" name="StateDir" value="STATE"/>
        </instance_attributes>
        <operations>
          <op id="sleeper-start" name="start" interval="0" timeout="10s"/>
          <op id="sleeper-stop" name="stop" interval="0" timeout="10s"/>
          <op id="sleeper-monitor" name="monitor" interval="10s" timeout="10s"/>
        </operations>
      </primitive>
      <primitive id="hung" class="ocf" provider="PROVIDER" type="process">
        <instance_attributes id="hung-ia">
          <nvpair id="hung-command" name="Command" value="HUNG"/>
          <nvpair id="hung-statedir" name="StateDir" value="STATE"/>
          <nvpair id="hung-ready" name="ReadyFile" value="STATE/never-ready"/>
        </instance_attributes>
        <operations>
          <op id="hung-start" name="start" interval="0" timeout="3s"/>
          <op id="hung-stop" name="stop" interval="0" timeout="10s"/>
          <op id="hung-monitor" name="monitor" interval="10s" timeout="10s"/>
        </operations>
      </primitive>
      <primitive id="bad" class="ocf" provider="PROVIDER" type="process">
        <instance_attributes id="bad-ia">
          <nvpair id="bad-command" name="Command" value="sleep 1000"/>
          <nvpair id="bad-signal" name="StopSignal" value="KILL"/>
          <nvpair id="bad-grace" name="StartGrace" value="forever"/>
        </instance_attributes>
      </primitive>
      <primitive id="noprogram" class="ocf" provider="PROVIDER" type="process">
        <instance_attributes id="noprogram-ia">
          <nvpair id="noprogram-command" name="Command" value="/nonexistent/resdll-test-program"/>
          <nvpair id="noprogram-statedir" name="StateDir" value="STATE"/>
        </instance_attributes>
      </primitive>
      <primitive id="nodir" class="ocf" provider="PROVIDER" type="process">
        <instance_attributes id="nodir-ia">
          <nvpair id="nodir-command" name="Command" value="sleep 1000"/>
          <nvpair id="nodir-statedir" name="StateDir" value="STATE"/>
          <nvpair id="nodir-workdir" name="WorkingDirectory" value="/nonexistent/resdll-test-dir"/>
        </instance_attributes>
      </primitive>
    </resources>
    <constraints/>
  </configuration>
  <status/>
</cib>
`

// crm_resource runs the agent through Pacemaker's own executor code, as the
// cluster would, with no cluster: the CIB is a file. A resource starts,
// checks 0, stops, checks 7; bad parameters give validate-all's 6; a
// program or directory missing on this node gives 5; a start that cannot
// finish within its op's 3 s time-out gives up inside it with exit 1 and a
// reason, and the recovery Pacemaker would run next (stop, then check)
// leaves nothing running and answers 7.
func TestCrmResource(t *testing.T) {
	crmResource := needTool(t, "crm_resource", "pacemaker-cli-utils")
	provider, _ := install(t, buildAgent(t))
	sleeper, hung := marker(t), marker(t)
	killLeftovers(t, sleeper)
	killLeftovers(t, hung)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	cib := filepath.Join(dir, "cib.xml")
	doc := strings.NewReplacer("PROVIDER", provider, "STATE", state,
		"SLEEPER", strings.Join(sleeper, " "), "HUNG", strings.Join(hung, " ")).Replace(cibXML)
	if err := os.WriteFile(cib, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := bounded(t, time.Minute)
	agent := []string{"--class", "ocf", "--provider", provider, "--agent", "process"}

	steps := []struct {
		name   string
		args   []string
		want   int
		output []string // the output must hold each
		after  func(t *testing.T)
		// gaveUp bounds, when set, the agent's own time for a start it
		// gives up, as it logs it: from the operation's budget to the op's
		// time-out, before which the executor would have killed it.
		// (crm_resource's wall time includes its own start-up, which has
		// no bound under load.)
		gaveUp [2]time.Duration
	}{
		{name: "start", args: []string{"--force-start", "-r", "sleeper"}, want: 0,
			after: func(t *testing.T) {
				if pids := running(sleeper); len(pids) != 1 {
					t.Errorf("after the start, %q runs as %v; want one process", sleeper, pids)
				}
			}},
		{name: "check running", args: []string{"--force-check", "-r", "sleeper"}, want: 0},
		{name: "stop", args: []string{"--force-stop", "-r", "sleeper"}, want: 0,
			after: func(t *testing.T) { noLeftovers(t, sleeper) }},
		{name: "check stopped", args: []string{"--force-check", "-r", "sleeper"}, want: 7, output: []string{"returned 7 (not running)"}},
		{name: "validate bad parameters", args: []string{"--validate", "-r", "bad"}, want: 6,
			output: []string{"returned 6 (not configured", `ocf-exit-reason:validate-all: invalid parameters: property "StartGrace"`,
				`property "StopSignal"`, `property "StateDir": is required`}},
		{name: "validate options", args: append(slices.Clone(agent), "--validate", "--option", "Command=sleep 1", "--option", "StateDir="+state), want: 0},
		{name: "validate bad options", args: append(slices.Clone(agent), "--validate", "--option", "Command=sleep 1", "--option", "StateDir=relative"), want: 6,
			output: []string{"returned 6 (not configured"}},
		{name: "start without the program", args: []string{"--force-start", "-r", "noprogram"}, want: 5, output: []string{"returned 5 (not installed"}},
		{name: "start without the working directory", args: []string{"--force-start", "-r", "nodir"}, want: 5, output: []string{"returned 5 (not installed"}},
		{name: "start that cannot finish", args: []string{"--force-start", "-r", "hung"}, want: 1,
			output: []string{"returned 1 (error: start: did not finish within 1.5s of its 3s time-out"},
			gaveUp: [2]time.Duration{1500 * time.Millisecond, 3 * time.Second},
			after:  func(t *testing.T) { noLeftovers(t, hung) }},
		{name: "recovery: stop", args: []string{"--force-stop", "-r", "hung"}, want: 0},
		{name: "recovery: check", args: []string{"--force-check", "-r", "hung"}, want: 7,
			after: func(t *testing.T) { noLeftovers(t, hung) }},
		{name: "meta-data as Pacemaker reads it", args: []string{"--show-metadata", "ocf:" + provider + ":process"}, want: 0,
			output: []string{`<parameter name="StopSignal" required="0" unique="0" reloadable="1">`,
				// The hints give the example's 20 s PendingTimeout and
				// CheckTimeout in full (ocf.Agent.MetaData); README's pcs and
				// crm commands use them.
				`<action name="start" timeout="30s"`, `<action name="stop" timeout="30s"`,
				`<action name="monitor" timeout="30s" interval="10s"`, `<action name="reload-agent" timeout="30s"`}},
	}
	for _, s := range steps {
		start := time.Now()
		code, out := crm(ctx, t, crmResource, cib, s.args...)
		took := time.Since(start)
		t.Logf("crm_resource %s: exit %d in %v", strings.Join(s.args, " "), code, took.Round(time.Millisecond))
		if code != s.want {
			t.Fatalf("%s: crm_resource exit %d, want %d:\n%s", s.name, code, s.want, out)
		}
		for _, want := range s.output {
			if !strings.Contains(out, want) {
				t.Errorf("%s: the output lacks %q:\n%s", s.name, want, out)
			}
		}
		if s.gaveUp != [2]time.Duration{} {
			switch agent, ok := agentTook(out, "start"); {
			case !ok:
				t.Errorf("%s: the output lacks the agent's log line %q:\n%s", s.name, "msg=done op=start … took=", out)
			case agent < s.gaveUp[0] || agent >= s.gaveUp[1]:
				t.Errorf("%s: the agent gave up after %v; want from %v to %v", s.name, agent, s.gaveUp[0], s.gaveUp[1])
			}
		}
		if s.after != nil {
			s.after(t)
		}
	}
	noLeftovers(t, sleeper)
	noLeftovers(t, hung)
}
