package ocf

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/wrapper"
)

// count returns how many of calls are call.
func count(calls []string, call string) int {
	n := 0
	for _, c := range calls {
		if c == call {
			n++
		}
	}
	return n
}

// checkClosed fails the test unless every resource opened was closed.
func checkClosed(t *testing.T, w *world) {
	t.Helper()
	if opens, closes := w.counts(); opens != closes {
		t.Errorf("%d resources opened, %d closed", opens, closes)
	}
}

// The life of a resource across fresh invocations: state between them is
// the world's, learnt by Probe (R7). monitor answers 7 for a stopped
// resource, start on a running one and stop on a stopped one succeed at
// once, and monitor changes nothing.
func TestLifecycle(t *testing.T) {
	w := newWorld(t)
	a := newAgent(t, w, fakeSchema, Options{})
	ctx := t.Context()
	steps := []struct {
		name    string
		env     []string
		action  string
		want    ExitCode
		running bool
	}{
		{"probe of a stopped resource", svcEnv(), "monitor", ExitNotRunning, false},
		{"recurring monitor of a stopped resource", svcEnv("OCF_RESKEY_CRM_meta_interval=10000"), "monitor", ExitNotRunning, false},
		{"start", svcEnv("OCF_RESKEY_Level=warn"), "start", ExitSuccess, true},
		{"probe of a running resource", svcEnv("OCF_RESKEY_CRM_meta_interval=0"), "monitor", ExitSuccess, true},
		{"recurring monitor of a running resource", svcEnv("OCF_RESKEY_CRM_meta_interval=10000"), "monitor", ExitSuccess, true},
		{"start of a running resource", svcEnv(), "start", ExitSuccess, true},
		{"stop", svcEnv(), "stop", ExitSuccess, false},
		{"monitor after the stop", svcEnv(), "monitor", ExitNotRunning, false},
		{"stop of a stopped resource", svcEnv(), "stop", ExitSuccess, false},
	}
	for _, s := range steps {
		r := invoke(ctx, a, s.env, s.action)
		if r.code != s.want {
			t.Fatalf("%s: exit %v, want %v; stderr:\n%s", s.name, r.code, s.want, r.stderr)
		}
		if r.reason() != "" {
			t.Errorf("%s: exit reason %q on success", s.name, r.reason())
		}
		if _, ok := w.runs("svc"); ok != s.running {
			t.Fatalf("%s: running is %v, want %v", s.name, ok, s.running)
		}
		checkClosed(t, w)
	}
	calls := w.called()
	if n := count(calls, "Online svc"); n != 1 {
		t.Errorf("Online called %d times, want once (start of a running resource starts nothing): %q", n, calls)
	}
	if n := count(calls, "Offline svc"); n != 1 {
		t.Errorf("Offline called %d times, want once (stop of a stopped resource stops nothing): %q", n, calls)
	}
}

// The values the resource runs with are the decoded parameters with the
// schema's defaults (R50, R52).
func TestStartValues(t *testing.T) {
	w := newWorld(t)
	a := newAgent(t, w, fakeSchema, Options{})
	r := invoke(t.Context(), a, svcEnv(
		"OCF_RESKEY_Port=9090", `OCF_RESKEY_Args=["-c", "exec sleep 1"]`, "OCF_RESKEY_Verbose=yes",
		"OCF_RESKEY_Grace=5min", "OCF_RESKEY_Offset=-3", "OCF_RESKEY_Quota=18446744073709551615", "OCF_RESKEY_Key=3q2+7w==",
	), "start")
	if r.code != ExitSuccess {
		t.Fatalf("start: exit %v; stderr:\n%s", r.code, r.stderr)
	}
	vals, ok := w.runs("svc")
	if !ok {
		t.Fatal("not running after start")
	}
	want := map[string]any{
		"Name": "web", "Port": uint32(9090), "Args": []string{"-c", "exec sleep 1"}, "Verbose": true,
		"Grace": 5 * time.Minute, "Offset": int64(-3), "Quota": uint64(1<<64 - 1), "Key": []byte{0xde, 0xad, 0xbe, 0xef},
		"Level": "info", "Serial": "S-1",
	}
	wantVals, err := properties.NewValues(want)
	if err != nil {
		t.Fatal(err)
	}
	if full := fakeSchema.Defaults().Merge(vals); !full.Equal(wantVals) {
		t.Errorf("the resource runs with %v, want %v", full, wantVals)
	}
}

// A start that fails answers the exit code of its error (ExitCodeOf) with a
// reason, and leaves nothing running: the wrapper's Close terminates what
// the failed start left (R18).
func TestStartFails(t *testing.T) {
	for _, tc := range []struct {
		name      string
		onlineErr error
		openErr   error
		want      ExitCode
	}{
		{"generic", errors.New("the disk is full"), nil, ExitGenericError},
		{"not installed", fmt.Errorf("program missing: %w", resource.ErrNotInstalled), nil, ExitNotInstalled},
		{"permission", fmt.Errorf("cannot write: %w", resource.ErrPermission), nil, ExitPermission},
		{"not configured", fmt.Errorf("no such volume: %w", resource.ErrNotConfigured), nil, ExitNotConfigured},
		{"open fails", nil, fmt.Errorf("bad combination: %w", resource.ErrNotConfigured), ExitNotConfigured},
		{"open panics", nil, nil, ExitGenericError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.onlineErr, w.openErr = tc.onlineErr, tc.openErr
			typ := fakeType(t, w, fakeSchema)
			if tc.name == "open panics" {
				var err error
				typ, err = resource.NewType("Fake", fakeSchema, func(context.Context, string, properties.Values) (resource.Resource, error) {
					panic("the factory is broken")
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			a, err := New(typ, Options{})
			if err != nil {
				t.Fatal(err)
			}
			r := invoke(t.Context(), a, svcEnv(), "start")
			if r.code != tc.want {
				t.Fatalf("exit %v, want %v; stderr:\n%s", r.code, tc.want, r.stderr)
			}
			if !strings.HasPrefix(r.reason(), "start: ") {
				t.Errorf("exit reason %q, want one starting with \"start: \"", r.reason())
			}
			if _, ok := w.runs("svc"); ok {
				t.Error("something runs after a failed start")
			}
			checkClosed(t, w)
		})
	}
}

// A stop whose Offline fails is forced with Terminate; it succeeds when the
// Terminator does, since Pacemaker fences a node whose stop fails.
func TestStopForced(t *testing.T) {
	for _, tc := range []struct {
		name    string
		termErr error
		want    ExitCode
	}{
		{"Terminate succeeds", nil, ExitSuccess},
		{"Terminate fails", errors.New("the process ignores SIGKILL"), ExitGenericError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.set("svc", properties.Values{})
			w.offlineErr, w.terminateErr = errors.New("the service refuses to stop"), tc.termErr
			a := newAgent(t, w, fakeSchema, Options{})
			r := invoke(t.Context(), a, svcEnv(), "stop")
			if r.code != tc.want {
				t.Fatalf("exit %v, want %v; stderr:\n%s", r.code, tc.want, r.stderr)
			}
			_, running := w.runs("svc")
			if running != (tc.termErr != nil) {
				t.Errorf("running after the stop: %v", running)
			}
			if tc.want != ExitSuccess {
				for _, want := range []string{"the service refuses to stop", "the process ignores SIGKILL"} {
					if !strings.Contains(r.reason(), want) {
						t.Errorf("exit reason %q lacks %q", r.reason(), want)
					}
				}
			}
			if calls := w.called(); count(calls, "Terminate svc") == 0 {
				t.Errorf("no Terminate: %q", calls)
			}
			checkClosed(t, w)
		})
	}
}

// A stop succeeds only when a probe after the Offline finds the resource
// not running (R7): Pacemaker would start it elsewhere.
func TestStopConfirmed(t *testing.T) {
	w := newWorld(t)
	w.set("svc", properties.Values{})
	w.offlineLies = true
	a := newAgent(t, w, fakeSchema, Options{})
	r := invoke(t.Context(), a, svcEnv(), "stop")
	if r.code != ExitGenericError || !strings.Contains(r.reason(), "a probe after it finds the resource") {
		t.Fatalf("exit %v, reason %q", r.code, r.reason())
	}
	if calls := w.called(); count(calls, "IsAlive svc") != 2 {
		t.Errorf("calls %q: want a probe before and one after the Offline", calls)
	}
	checkClosed(t, w)
}

// A monitor that finds the resource in trouble answers the error's code; a
// probe that cannot find what it needs on this node answers 5, which
// Pacemaker takes as "not running" for a probe. A monitor stops nothing.
func TestMonitorFails(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want ExitCode
	}{
		{"failed", errors.New("answers 500 Internal Server Error"), ExitGenericError},
		{"not installed", fmt.Errorf("no client binary: %w", resource.ErrNotInstalled), ExitNotInstalled},
		{"permission", fmt.Errorf("cannot read the pid file: %w", resource.ErrPermission), ExitPermission},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.set("svc", properties.Values{})
			w.isAliveErr = tc.err
			a := newAgent(t, w, fakeSchema, Options{})
			r := invoke(t.Context(), a, svcEnv("OCF_RESKEY_CRM_meta_interval=10000"), "monitor")
			if r.code != tc.want {
				t.Fatalf("exit %v, want %v; stderr:\n%s", r.code, tc.want, r.stderr)
			}
			if !strings.Contains(r.reason(), tc.err.Error()) {
				t.Errorf("exit reason %q lacks %q", r.reason(), tc.err)
			}
			if _, ok := w.runs("svc"); !ok {
				t.Error("the monitor stopped the resource")
			}
			checkClosed(t, w)
		})
	}
}

// validate-all checks the parameters and opens the resource, which starts
// nothing; crm_resource --validate with --option names no resource.
func TestValidate(t *testing.T) {
	w := newWorld(t)
	a := newAgent(t, w, fakeSchema, Options{})
	for _, env := range [][]string{
		svcEnv(),
		{"OCF_RESKEY_Name=web", "OCF_RESKEY_Port=1"},
	} {
		r := invoke(t.Context(), a, env, "validate-all")
		if r.code != ExitSuccess {
			t.Fatalf("validate-all with %q: exit %v; stderr:\n%s", env, r.code, r.stderr)
		}
	}
	if opens, _ := w.counts(); opens != 2 {
		t.Errorf("%d opens, want 2", opens)
	}
	checkClosed(t, w)
	if calls := w.called(); slices.ContainsFunc(calls, func(c string) bool { return !strings.HasPrefix(c, "Close ") && !strings.HasPrefix(c, "Detach ") }) {
		t.Errorf("validate-all called into the resource: %q", calls)
	}
}

// Every action that takes parameters checks them as a whole (R52): any
// problem is 6, the reason names every parameter at fault, and the resource
// is not even opened.
func TestInvalidParameters(t *testing.T) {
	bad := []struct {
		env  string
		name string // the parameter the reason must name
	}{
		{"OCF_RESKEY_Port=0", "Port"},           // below Min
		{"OCF_RESKEY_Port=http", "Port"},        // not a number
		{"OCF_RESKEY_Level=loud", "Level"},      // not allowed
		{"OCF_RESKEY_Verbose=maybe", "Verbose"}, // not a boolean
		{"OCF_RESKEY_Grace=2h", "Grace"},        // above Max
		{"OCF_RESKEY_Grace=soon", "Grace"},      // not a duration
		{"OCF_RESKEY_Offset=-6", "Offset"},      // below Min
		{"OCF_RESKEY_Quota=-1", "Quota"},        // negative
		{"OCF_RESKEY_Key=!!", "Key"},            // not base64
		{`OCF_RESKEY_Args=["a", 1]`, "Args"},    // not an array of strings
		{"OCF_RESKEY_Serial=S-2", "Serial"},     // read-only
		{"OCF_RESKEY_Colour=blue", "Colour"},    // unknown
		{"OCF_RESKEY_name=other", "name"},       // Name given twice
		{"OCF_RESKEY_Args=a\xffb", "Args"},      // not UTF-8
		{"OCF_RESKEY_Port=99999999999", "Port"}, // out of uint32's range
	}
	for _, b := range bad {
		for _, action := range []string{"validate-all", "start", "stop", "monitor", "reload-agent"} {
			w := newWorld(t)
			a := newAgent(t, w, fakeSchema, Options{})
			r := invoke(t.Context(), a, svcEnv(b.env), action)
			if r.code != ExitNotConfigured {
				t.Errorf("%s with %s: exit %v, want %v; stderr:\n%s", action, b.env, r.code, ExitNotConfigured, r.stderr)
				continue
			}
			if want := fmt.Sprintf("property %q", b.name); !strings.Contains(r.reason(), want) {
				t.Errorf("%s with %s: exit reason %q lacks %s", action, b.env, r.reason(), want)
			}
			if opens, _ := w.counts(); opens != 0 {
				t.Errorf("%s with %s: the resource was opened", action, b.env)
			}
		}
	}

	// Every problem at once, each once: a required parameter refused here
	// is not also reported missing.
	w := newWorld(t)
	a := newAgent(t, w, fakeSchema, Options{})
	r := invoke(t.Context(), a, []string{"OCF_RESOURCE_INSTANCE=svc", "OCF_RESKEY_Name=a\xff", "OCF_RESKEY_Port=0", "OCF_RESKEY_Level=loud", "OCF_RESKEY_Colour=blue"}, "validate-all")
	if r.code != ExitNotConfigured {
		t.Fatalf("exit %v; stderr:\n%s", r.code, r.stderr)
	}
	for _, name := range []string{"Name", "Port", "Level", "Colour"} {
		if n := strings.Count(r.reason(), fmt.Sprintf("property %q", name)); n != 1 {
			t.Errorf("the reason names %s %d times, want once: %s", name, n, r.reason())
		}
	}
	// A missing required parameter.
	r = invoke(t.Context(), a, []string{"OCF_RESOURCE_INSTANCE=svc"}, "start")
	if r.code != ExitNotConfigured || !strings.Contains(r.reason(), `property "Name": is required`) {
		t.Errorf("start without Name: exit %v, reason %q", r.code, r.reason())
	}
}

// reload-agent hands the new values to a running resource through the
// wrapper (R58); a resource that cannot take them now answers 1, which
// makes Pacemaker restart it; nothing running is a success.
func TestReloadAgent(t *testing.T) {
	t.Run("running", func(t *testing.T) {
		w := newWorld(t)
		a := newAgent(t, w, fakeSchema, Options{})
		if r := invoke(t.Context(), a, svcEnv(), "start"); r.code != ExitSuccess {
			t.Fatalf("start: %v %s", r.code, r.stderr)
		}
		r := invoke(t.Context(), a, svcEnv("OCF_RESKEY_Level=debug", "OCF_RESKEY_Verbose=on"), "reload-agent")
		if r.code != ExitSuccess {
			t.Fatalf("reload-agent: exit %v; stderr:\n%s", r.code, r.stderr)
		}
		vals, ok := w.runs("svc")
		if !ok {
			t.Fatal("reload-agent stopped the resource")
		}
		if lvl, _ := vals.GetString("Level"); lvl != "debug" {
			t.Errorf("Level is %q after the reload, want debug", lvl)
		}
		if v, _ := vals.GetBool("Verbose"); !v {
			t.Error("Verbose is false after the reload")
		}
		if calls := w.called(); count(calls, "Online svc") != 1 || count(calls, "ApplyProperties svc") != 1 {
			t.Errorf("calls %q: want one Online and one ApplyProperties", calls)
		}
		checkClosed(t, w)
	})
	t.Run("not running", func(t *testing.T) {
		w := newWorld(t)
		a := newAgent(t, w, fakeSchema, Options{})
		r := invoke(t.Context(), a, svcEnv("OCF_RESKEY_Level=debug"), "reload-agent")
		if r.code != ExitSuccess {
			t.Fatalf("exit %v; stderr:\n%s", r.code, r.stderr)
		}
		if calls := w.called(); count(calls, "ApplyProperties svc") != 0 {
			t.Errorf("ApplyProperties called with nothing running: %q", calls)
		}
	})
	for _, tc := range []struct {
		name     string
		applyErr error
		kind     resKind
	}{
		{"declined", fmt.Errorf("the service cannot change its level live: %w", properties.ErrStored), kindFull},
		{"failed", errors.New("the service crashed"), kindFull},
		{"no PropertyOwner", nil, kindNoReloader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.set("svc", properties.Values{})
			w.applyErr, w.kind = tc.applyErr, tc.kind
			a := newAgent(t, w, fakeSchema, Options{})
			r := invoke(t.Context(), a, svcEnv("OCF_RESKEY_Level=debug"), "reload-agent")
			if r.code != ExitGenericError {
				t.Fatalf("exit %v, want %v; stderr:\n%s", r.code, ExitGenericError, r.stderr)
			}
			if !strings.HasPrefix(r.reason(), "reload-agent: ") {
				t.Errorf("exit reason %q", r.reason())
			}
			if _, ok := w.runs("svc"); !ok {
				t.Error("a failed reload stopped the resource")
			}
			checkClosed(t, w)
		})
	}
	t.Run("no reloadable parameters", func(t *testing.T) {
		w := newWorld(t)
		a := newAgent(t, w, plainSchema, Options{})
		r := invoke(t.Context(), a, svcEnv(), "reload-agent")
		if r.code != ExitUnimplemented || r.reason() == "" {
			t.Errorf("exit %v, reason %q; want %v with a reason", r.code, r.reason(), ExitUnimplemented)
		}
	})
}

// The actions OCF defines that the adapter does not implement answer 3,
// as does an unknown one; a wrong invocation answers 2.
func TestInvocation(t *testing.T) {
	w := newWorld(t)
	a := newAgent(t, w, fakeSchema, Options{})
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want ExitCode
	}{
		{"promote", svcEnv(), []string{"promote"}, ExitUnimplemented},
		{"demote", svcEnv(), []string{"demote"}, ExitUnimplemented},
		{"notify", svcEnv(), []string{"notify"}, ExitUnimplemented},
		{"migrate_to", svcEnv(), []string{"migrate_to"}, ExitUnimplemented},
		{"migrate_from", svcEnv(), []string{"migrate_from"}, ExitUnimplemented},
		{"legacy reload", svcEnv(), []string{"reload"}, ExitUnimplemented},
		{"unknown action", svcEnv(), []string{"dance"}, ExitUnimplemented},
		{"no action", svcEnv(), nil, ExitInvalidArgs},
		{"two arguments", svcEnv(), []string{"start", "now"}, ExitInvalidArgs},
		{"no instance", []string{"OCF_RESKEY_Name=web"}, []string{"start"}, ExitInvalidArgs},
		{"no instance for monitor", []string{"OCF_RESKEY_Name=web"}, []string{"monitor"}, ExitInvalidArgs},
		{"bad time-out", svcEnv("OCF_RESKEY_CRM_meta_timeout=20s"), []string{"start"}, ExitInvalidArgs},
		{"bad interval", svcEnv("OCF_RESKEY_CRM_meta_interval=-1"), []string{"monitor"}, ExitInvalidArgs},
	} {
		r := invoke(t.Context(), a, tc.env, tc.args...)
		if r.code != tc.want {
			t.Errorf("%s: exit %v, want %v; stderr:\n%s", tc.name, r.code, tc.want, r.stderr)
		}
		if r.reason() == "" {
			t.Errorf("%s: no exit reason", tc.name)
		}
	}
	if opens, _ := w.counts(); opens != 0 {
		t.Errorf("%d resources opened by wrong invocations", opens)
	}
	for _, action := range []string{"usage", "help"} {
		r := invoke(t.Context(), a, nil, action)
		if r.code != ExitSuccess || !strings.HasPrefix(r.stdout, "usage: Fake {start|stop|monitor|validate-all|reload-agent|meta-data|usage}") {
			t.Errorf("%s: exit %v, stdout %q", action, r.code, r.stdout)
		}
	}
}

// The exit reason is one line after OCF_EXIT_REASON_PREFIX (default
// "ocf-exit-reason:"), however many lines the error has.
func TestExitReasonLine(t *testing.T) {
	w := newWorld(t)
	w.onlineErr = errors.Join(errors.New("first line"), errors.New("second line"))
	a := newAgent(t, w, fakeSchema, Options{})
	r := invoke(t.Context(), a, svcEnv("OCF_EXIT_REASON_PREFIX=why:"), "start")
	if r.code != ExitGenericError {
		t.Fatalf("exit %v; stderr:\n%s", r.code, r.stderr)
	}
	if r.stderr != "why:start: Online: first line; second line\n" {
		t.Errorf("stderr %q", r.stderr)
	}
}

// A type whose resources have a Terminator but no Detacher cannot run under
// OCF (each start would be undone); one with neither runs, and Close leaves
// its instance alone.
func TestDetacher(t *testing.T) {
	t.Run("no Detacher", func(t *testing.T) {
		w := newWorld(t)
		w.kind = kindNoDetach
		a := newAgent(t, w, fakeSchema, Options{})
		for _, action := range []string{"start", "validate-all"} {
			r := invoke(t.Context(), a, svcEnv(), action)
			if r.code != ExitGenericError || !strings.Contains(r.reason(), "cannot run under OCF") {
				t.Errorf("%s: exit %v, reason %q", action, r.code, r.reason())
			}
		}
		if calls := w.called(); count(calls, "Online svc") != 0 {
			t.Errorf("Online was called: %q", calls)
		}
		checkClosed(t, w)
	})
	t.Run("bare", func(t *testing.T) {
		w := newWorld(t)
		w.kind = kindBare
		a := newAgent(t, w, fakeSchema, Options{})
		for _, step := range []struct {
			action  string
			want    ExitCode
			running bool
		}{
			{"start", ExitSuccess, true},
			{"monitor", ExitSuccess, true},
			{"stop", ExitSuccess, false},
			{"monitor", ExitNotRunning, false},
		} {
			r := invoke(t.Context(), a, svcEnv(), step.action)
			if r.code != step.want {
				t.Fatalf("%s: exit %v, want %v; stderr:\n%s", step.action, r.code, step.want, r.stderr)
			}
			if _, ok := w.runs("svc"); ok != step.running {
				t.Fatalf("after %s: running %v", step.action, ok)
			}
		}
	})
}

// New refuses what it cannot run with, naming the field.
func TestNewRefuses(t *testing.T) {
	w := newWorld(t)
	typ := fakeType(t, w, fakeSchema)
	badName, err := resource.NewType("Bad", properties.MustSchema(properties.Property{Name: "a=b", Kind: properties.String}),
		func(context.Context, string, properties.Values) (resource.Resource, error) {
			return nil, errors.New("unused")
		})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		typ   *resource.Type
		opts  Options
		field string
	}{
		{"nil type", nil, Options{}, "type"},
		{"never pending", typ, Options{Policy: wrapper.Policy{PendingTimeout: resource.Never}}, "PendingTimeout"},
		{"never terminate", typ, Options{Policy: wrapper.Policy{TerminateTimeout: resource.Never}}, "TerminateTimeout"},
		{"never check", typ, Options{Policy: wrapper.Policy{CheckTimeout: resource.Never}}, "CheckTimeout"},
		{"bad policy", typ, Options{Policy: wrapper.Policy{IsAliveInterval: -time.Second}}, "IsAliveInterval"},
		{"negative margin", typ, Options{Margin: -time.Second}, "Margin"},
		{"property name with =", badName, Options{}, `"a=b"`},
	} {
		_, err := New(tc.typ, tc.opts)
		if !errors.Is(err, resource.ErrInvalidOption) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: New: %v; want ErrInvalidOption naming %s", tc.name, err, tc.field)
		}
	}
}
