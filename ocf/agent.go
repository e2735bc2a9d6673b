package ocf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/benbjohnson/clock"

	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/wrapper"
)

// The actions of an OCF 1.1 resource agent that this adapter implements.
// Every other action (promote, demote, notify, migrate_to, migrate_from,
// reload, …) answers ExitUnimplemented.
const (
	actionStart       = "start"
	actionStop        = "stop"
	actionMonitor     = "monitor"
	actionValidate    = "validate-all"
	actionMetaData    = "meta-data"
	actionReloadAgent = "reload-agent"
	actionUsage       = "usage"
	actionHelp        = "help"
)

// metaDataTimeout is the meta-data action's time-out hint.
const metaDataTimeout = 5 * time.Second

// Detacher is implemented by resources whose running instance lives outside
// the program, as a process does: Detach makes the resource forget the
// instance and leave it running, so that a later Terminate, Offline or Close
// of the resource does nothing to it, and a later program finds it again
// with IsAlive (R7). The Process type of examples/process implements it.
//
// Each OCF action runs in a program of its own that ends when the action
// does, and closing a wrapper stops what its resource runs (R18). So the
// agent calls Detach before it closes the wrapper whenever the action must
// leave the resource as it is: after a start that succeeded (or found the
// resource running), and after monitor, validate-all and reload-agent.
// After stop, and after a start that failed, it does not: the Close then
// stops what is left.
//
// A resource that implements resource.Terminator must implement Detacher
// to run under OCF, or every start would be undone by the Close that ends
// it: the agent refuses such a type with ExitGenericError. A resource with
// neither is closed as it is; its Close must then release only what Open
// allocated (R42), not stop the instance.
type Detacher interface {
	Detach()
}

// ErrNotDetachable is wrapped by the error of an action on a resource that
// implements resource.Terminator but not Detacher (see Detacher).
var ErrNotDetachable = errors.New("ocf: the resource can be terminated but not detached")

// Options configure an Agent. The zero value of each field has a default.
type Options struct {
	// Name is the agent's name in meta-data; default the type's name. It is
	// usually the name of the agent's file under
	// /usr/lib/ocf/resource.d/<provider>/.
	Name string
	// Version is the agent's own version, in meta-data's version
	// attribute; empty leaves it out. (The OCF API version is OCFVersion.)
	Version string
	// ShortDesc and LongDesc describe the agent in meta-data; the defaults
	// name the resource type.
	ShortDesc, LongDesc string
	// Policy gives the time-out hints meta-data lists (see
	// Agent.MetaData), and the time-out of an action when Pacemaker passes
	// none (OCF_RESKEY_CRM_meta_timeout, which it always passes). Its zero
	// fields mean the wrapper's defaults (wrapper.Policy); PendingTimeout,
	// TerminateTimeout and CheckTimeout may not be resource.Never, because
	// Pacemaker times every action. CheckTimeout is the monitor's time and
	// the longest the probe that start, stop and reload-agent run first may
	// take (at most a third of the operation's budget, whatever it says).
	// IsAliveInterval is the monitor action's interval hint (none when
	// resource.Never); the other fields are not used: the agent runs no
	// periodic checks, Pacemaker's recurring monitor is the health check.
	Policy wrapper.Policy
	// Margin is how long before Pacemaker's time-out the agent has exited:
	// Pacemaker's executor sends SIGKILL to the agent's process group at
	// the time-out. Zero means a tenth of the time-out, at least MinMargin;
	// any margin is at most half the time-out. Negative is an error.
	Margin time.Duration
	// Clock times every deadline; nil means the real clock. Tests pass a
	// *clock.Mock.
	Clock clock.Clock
	// Logger receives what each action did, with the fields op (the OCF
	// action), resource, err and exit; the wrapper's records carry the
	// action as the field action. nil discards. Main, given none, logs to
	// standard error at level Info (Debug when HA_debug is 1), where
	// Pacemaker's executor records it.
	Logger *slog.Logger
}

// Agent runs the actions of one resource type as an OCF resource agent
// (OCF 1.1). Each call of Run is one invocation of the agent by Pacemaker:
// a fresh program, as far as the agent can tell, that learns the state of
// the resource from the real world (Probe, R7), never from a file of its
// own. An Agent holds no state between calls and is safe for concurrent
// use.
type Agent struct {
	t          *resource.Type
	opts       Options
	name       string
	policy     wrapper.Policy // resolved
	clock      clock.Clock
	log        *slog.Logger
	reloadable bool // the schema has a reloadable property an administrator may set
}

// New returns an agent for resources of type t. It refuses a nil type, a
// schema with a property name that cannot be an environment variable's
// (one holding "=" or white space), a policy the wrapper refuses or with
// resource.Never where Options.Policy forbids it, and a negative margin;
// the error names the field and wraps resource.ErrInvalidOption.
func New(t *resource.Type, opts Options) (*Agent, error) {
	if t == nil {
		return nil, fmt.Errorf("ocf: the resource type is nil: %w", resource.ErrInvalidOption)
	}
	pol, err := opts.Policy.Resolve()
	if err != nil {
		return nil, fmt.Errorf("ocf: Options.Policy: %w", err)
	}
	for _, f := range []struct {
		field string
		d     time.Duration
	}{
		{"PendingTimeout", pol.PendingTimeout}, {"TerminateTimeout", pol.TerminateTimeout}, {"CheckTimeout", pol.CheckTimeout},
	} {
		if f.d == resource.Never {
			return nil, fmt.Errorf("ocf: Options.Policy.%s is resource.Never (allowed: a positive duration, or zero for the default; Pacemaker times every action): %w",
				f.field, resource.ErrInvalidOption)
		}
	}
	if opts.Margin < 0 {
		return nil, fmt.Errorf("ocf: Options.Margin is %v (allowed: a positive duration, or zero for the default): %w", opts.Margin, resource.ErrInvalidOption)
	}
	a := &Agent{t: t, opts: opts, name: opts.Name, policy: pol, clock: opts.Clock, log: opts.Logger}
	for _, p := range t.Schema().Properties() {
		if strings.ContainsRune(p.Name, '=') || strings.IndexFunc(p.Name, unicode.IsSpace) >= 0 {
			return nil, fmt.Errorf("ocf: the type's property %q cannot be passed as %s%s (allowed: a name without \"=\" and white space): %w",
				p.Name, envParamPrefix, p.Name, resource.ErrInvalidOption)
		}
		if p.Reloadable && !p.ReadOnly {
			a.reloadable = true
		}
	}
	if a.name == "" {
		a.name = t.Name()
	}
	if a.clock == nil {
		a.clock = clock.New()
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	return a, nil
}

// Main makes the program an OCF resource agent for resources of type t:
// it runs the action named by the program's argument with the program's
// environment, prints what Run prints, and exits with the action's exit
// code. SIGTERM and SIGINT end the action as its time-out would. A bad
// option is reported as an exit reason with ExitGenericError. Main does not
// return.
func Main(t *resource.Type, opts Options) {
	if opts.Logger == nil {
		level := slog.LevelInfo
		if os.Getenv(envDebug) == "1" {
			level = slog.LevelDebug
		}
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	}
	a, err := New(t, opts)
	if err != nil {
		prefix := os.Getenv(envReasonPrefix)
		if prefix == "" {
			prefix = defaultReasonPrefix
		}
		fmt.Fprintln(os.Stderr, prefix+oneLine(err.Error()))
		os.Exit(int(ExitGenericError))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := a.Run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	stop()
	os.Exit(int(code))
}

// Run runs one invocation of the agent: args are the program's arguments
// (without the program's name: OCF passes exactly one, the action) and env
// its environment, in the form of os.Environ. It writes meta-data and usage
// to stdout and, when the action fails, one line "ocf-exit-reason:<why>" to
// stderr (the prefix is OCF_EXIT_REASON_PREFIX when set), which Pacemaker
// shows as the failure's reason. It returns the OCF exit code.
//
// The actions:
//
//   - start brings the resource online (Online, R10) unless Probe finds it
//     running already (R7), and succeeds once it is Online; the running
//     resource is then detached (see Detacher).
//   - stop takes it offline (Offline), escalating to Terminate when Offline
//     does not return in time (R16) and forcing it with Terminate when
//     Offline fails (R17). It succeeds when the Terminator did, or when a
//     second Probe after the resource's own Offline finds it not running;
//     stopping a stopped resource succeeds at once.
//   - monitor answers ExitSuccess when Probe finds the resource running,
//     ExitNotRunning when cleanly stopped, and an error code when it is in
//     trouble. With OCF_RESKEY_CRM_meta_interval unset or 0 it is a probe
//     (Pacemaker asking for the state it does not know); the answers are the
//     same.
//   - validate-all checks the parameters and opens the resource (R40),
//     which starts nothing.
//   - reload-agent, for types with reloadable properties, hands the new
//     values to a running resource (PropertyOwner, R58): ExitGenericError
//     when it cannot take them now, which makes Pacemaker restart it.
//   - meta-data prints MetaData; usage prints the actions.
//
// Every action but meta-data and usage decodes the OCF_RESKEY_<name>
// parameters into the type's schema and checks them as a whole (R52):
// any problem is ExitNotConfigured, its reason listing every problem. Each
// action works inside its time-out (see Options.Margin): an operation
// that cannot finish is given up (a start's resource is terminated, R18)
// and answers ExitGenericError with a reason, before Pacemaker's SIGKILL.
// Errors map to exit codes by ExitCodeOf. When ctx ends (Main's SIGTERM)
// the action is given up as at its time-out; the clean-up still runs,
// within the budget.
func (a *Agent) Run(ctx context.Context, args []string, env []string, stdout, stderr io.Writer) ExitCode {
	inv, envErr := parseEnv(env)
	out := &reporter{w: stderr, prefix: inv.reasonPrefix}
	if len(args) != 1 {
		a.usage(stderr)
		return out.fail(a.log, fmt.Errorf("%w: want one argument, the action; got %d", ErrInvalidArgs, len(args)))
	}
	action := args[0]
	log := a.log.With("op", action)
	switch action {
	case actionMetaData:
		md, err := a.MetaData()
		if err != nil {
			return out.fail(log, err)
		}
		if _, err := stdout.Write(md); err != nil {
			return out.fail(log, fmt.Errorf("ocf: writing meta-data: %w", err))
		}
		return ExitSuccess
	case actionUsage, actionHelp:
		a.usage(stdout)
		return ExitSuccess
	case actionStart, actionStop, actionMonitor, actionValidate:
	case actionReloadAgent:
		if !a.reloadable {
			return out.fail(log, fmt.Errorf("reload-agent: the %s type has no reloadable parameters: %w", a.t.Name(), resource.ErrUnsupported))
		}
	default:
		a.usage(stderr)
		return out.fail(log, fmt.Errorf("the action %q is not implemented by this agent: %w", action, resource.ErrUnsupported))
	}
	if envErr != nil {
		return out.fail(log, envErr)
	}
	c := &call{a: a, action: action, inv: inv, out: out, log: log}
	return c.run(ctx)
}

// usage writes the agent's actions to w.
func (a *Agent) usage(w io.Writer) {
	actions := "start|stop|monitor|validate-all|meta-data|usage"
	if a.reloadable {
		actions = "start|stop|monitor|validate-all|reload-agent|meta-data|usage"
	}
	fmt.Fprintf(w, "usage: %s {%s}\n\nAn OCF resource agent (OCF %s) for resources of the %s type; parameters in OCF_RESKEY_<name>, see meta-data.\n",
		a.name, actions, OCFVersion, a.t.Name())
}

// hint is the time-out meta-data suggests for action, and the one it runs
// under when Pacemaker passes none: the shortest, in whole seconds, whose
// budget gives the operation its full time from the policy (see
// Agent.MetaData): CheckTimeout for monitor, 5 s for meta-data,
// PendingTimeout for the others.
func (a *Agent) hint(action string) time.Duration {
	op := a.policy.PendingTimeout
	switch action {
	case actionMetaData:
		return metaDataTimeout
	case actionMonitor:
		op = a.policy.CheckTimeout
	}
	return timeoutFor(op, a.opts.Margin, a.policy.TerminateTimeout)
}

// reporter writes the exit reason of a failed action.
type reporter struct {
	w      io.Writer
	prefix string
}

// fail logs err, writes it as the exit reason, and returns its exit code.
// An action the agent does not implement is logged at level Info: Pacemaker
// and ocf-tester ask for optional actions to learn what an agent supports.
func (r *reporter) fail(log *slog.Logger, err error) ExitCode {
	code := ExitCodeOf(err)
	level := slog.LevelError
	if code == ExitUnimplemented {
		level = slog.LevelInfo
	}
	log.Log(context.Background(), level, "failed", "err", err, "exit", code)
	r.reason(err.Error())
	return code
}

// reason writes why as the exit reason: one line, after the prefix.
func (r *reporter) reason(why string) {
	fmt.Fprintln(r.w, r.prefix+oneLine(why))
}

// oneLine joins the lines of s with "; ", so an exit reason stays one line.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }), "; ")
}
