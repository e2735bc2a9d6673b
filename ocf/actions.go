package ocf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/wrapper"
)

// call is one invocation of an action that works on a resource: start,
// stop, monitor, validate-all or reload-agent.
type call struct {
	a      *Agent
	action string
	inv    invocation
	out    *reporter
	log    *slog.Logger

	plan  budget
	start time.Time         // when the action began, on the agent's clock
	name  string            // the resource's name: OCF_RESOURCE_INSTANCE
	vals  properties.Values // the parameters, decoded and valid

	// forced is set by the wrapper's sink when an Offline ended by
	// Terminate (R16): written from the wrapper's goroutines, read after
	// Wait.
	forced atomic.Bool
}

// run decodes the invocation and runs the action inside its time budget.
func (c *call) run(parent context.Context) ExitCode {
	a := c.a
	c.start = a.clock.Now()
	total := c.inv.timeout
	if total == 0 {
		total = a.hint(c.action)
	}
	c.plan = newBudget(total, a.opts.Margin, a.policy.TerminateTimeout)

	c.name = c.inv.instance
	if c.name == "" {
		if c.action != actionValidate {
			return c.out.fail(c.log, fmt.Errorf("%w: %s is not set: Pacemaker names the resource there", ErrInvalidArgs, envInstance))
		}
		c.name = a.name // crm_resource --validate with --option names no resource
	}
	c.log = c.log.With("resource", c.name)
	vals, err := decodeParams(a.t.Schema(), c.inv.params)
	if err != nil {
		return c.out.fail(c.log, fmt.Errorf("%s: invalid parameters: %w", c.action, err))
	}
	c.vals = vals
	c.log.Debug("begin", "timeout", c.plan.total, "budget", c.plan.op, "cleanup", c.plan.cleanup, "probe", c.inv.interval == 0)

	// The deadlines of the budget, on the agent's clock (see budget). The
	// operation's own deadline is the wrapper's pending timeout (R11).
	workCtx, stopWork := c.deadline(parent, c.plan.work())
	defer stopWork()
	// Close cleans up even when the parent context ends (Main's SIGTERM):
	// only its own deadline bounds it.
	closeCtx, stopClose := c.deadline(context.WithoutCancel(parent), c.plan.closing())
	defer stopClose()
	d := deadlines{work: workCtx, close: closeCtx}

	var code ExitCode
	switch c.action {
	case actionStart:
		code = c.doStart(d)
	case actionStop:
		code = c.doStop(d)
	case actionMonitor:
		code = c.doMonitor(d)
	case actionValidate:
		code = c.doValidate(d)
	case actionReloadAgent:
		code = c.doReload(d)
	}
	c.log.Info("done", "exit", code, "took", a.clock.Since(c.start))
	return code
}

// deadlines are the contexts of a budget's deadlines after the operation's
// own, which the wrapper keeps (R11).
type deadlines struct {
	work  context.Context // the Terminator (R16) has finished; bounds waits and probes
	close context.Context // the wrapper's Close has finished; then the agent exits
}

// deadline returns a context that ends d after the action began, on the
// agent's clock, with an error wrapping resource.ErrPendingTimeout as its
// cause; and the function that releases it.
func (c *call) deadline(parent context.Context, d time.Duration) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	cause := fmt.Errorf("ocf: the time budget is spent: %w", resource.ErrPendingTimeout)
	t := c.a.clock.AfterFunc(d-c.a.clock.Since(c.start), func() { cancel(cause) })
	return ctx, func() {
		t.Stop()
		cancel(nil)
	}
}

// explain returns err, or, when it is ctx's own error, the cause ctx ended
// with (the budget spent, or the parent's cancellation).
func explain(ctx context.Context, err error) error {
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return fmt.Errorf("%w (%v)", context.Cause(ctx), err)
	}
	return err
}

// policy is the wrapper's policy for an operation allowed op: no periodic
// checks (Pacemaker's recurring monitor is the health check), progress
// never beyond op (R13), the Terminator given the budget's cleanup (R16).
func (c *call) policy(op time.Duration) wrapper.Policy {
	op = max(op, minSlice)
	return wrapper.Policy{
		PendingTimeout: op, MaxPendingTime: op, CheckTimeout: op, TerminateTimeout: c.plan.cleanup,
		IsAliveInterval: resource.Never, LooksAliveInterval: resource.Never,
	}
}

// probesFirst reports whether the action runs an operation after its first
// Probe: start (Online), stop (Offline) and reload-agent (SetProperties).
func (c *call) probesFirst() bool {
	switch c.action {
	case actionStart, actionStop, actionReloadAgent:
		return true
	}
	return false
}

// probeTimeout is the time-out of the Probe that start, stop and
// reload-agent run before their operation (R7, R21): the policy's
// CheckTimeout, and at most a third of the operation's budget, so that a
// slow IsAlive leaves the operation the rest. (A stop whose Offline got
// what a hung probe left would escalate to Terminate at once.)
func (c *call) probeTimeout() time.Duration {
	return max(min(c.a.policy.CheckTimeout, c.plan.op/3), minSlice)
}

// remaining is what is left of the operation's budget.
func (c *call) remaining() time.Duration {
	return c.plan.op - c.a.clock.Since(c.start)
}

// open opens the resource with the decoded parameters (R40) and wraps it;
// props are the values the wrapper is told the resource runs with. The
// wrapper's policy is the rest of the operation's budget, with the
// probeTimeout for the first Probe of an action that runs an operation
// after it; the action sets the policy of its operation before starting it.
func (c *call) open(ctx context.Context, props properties.Values) (*wrapper.Wrapper, error) {
	res, release, err := c.a.t.Open(ctx, c.name, c.vals)
	if err != nil {
		return nil, fmt.Errorf("opening %s resource %q: %w", c.a.t.Name(), c.name, err)
	}
	discard := func() {
		if cl, ok := res.(io.Closer); ok {
			_ = cl.Close()
		}
		_ = release()
	}
	_, terminator := res.(resource.Terminator)
	if _, detacher := res.(Detacher); terminator && !detacher {
		discard()
		return nil, fmt.Errorf("%w: the %s type cannot run under OCF: every start would be undone when the agent ends (see ocf.Detacher)",
			ErrNotDetachable, c.a.t.Name())
	}
	pol := c.policy(c.remaining())
	if c.probesFirst() {
		pol.CheckTimeout = min(pol.CheckTimeout, c.probeTimeout())
	}
	w, err := wrapper.New(res, wrapper.Options{
		Name: c.name, Clock: c.a.clock, Logger: c.a.log.With("action", c.action), Policy: pol,
		Schema: c.a.t.Schema(), Properties: props, Release: release,
		Sink: func(e resource.Event) {
			if e.Kind == resource.StateChanged && e.To == resource.Offline && e.Op == resource.OpOffline && e.Forced {
				c.forced.Store(true)
			}
		},
	})
	if err != nil {
		discard()
		return nil, fmt.Errorf("wrapping resource %q: %w", c.name, err)
	}
	return w, nil
}

// finish ends the action's use of w: with detach, the resource first
// forgets what it runs, so that Close leaves it running (see Detacher);
// without, Close stops what runs (R18). A Close that fails is logged: the
// action's outcome stands.
func (c *call) finish(ctx context.Context, w *wrapper.Wrapper, detach bool) {
	if detach {
		if d, ok := w.Resource().(Detacher); ok {
			d.Detach()
		}
	}
	if err := w.Close(ctx); err != nil {
		c.log.Warn("closing the resource", "err", err)
	}
}

// fail reports the failed action's error and returns its exit code. A
// time-out says what the budget was, first, because Pacemaker keeps only
// the start of an exit reason.
func (c *call) fail(err error) ExitCode {
	if errors.Is(err, resource.ErrPendingTimeout) || errors.Is(err, resource.ErrCheckTimeout) {
		err = fmt.Errorf("did not finish within %v: %w", c.plan, err)
	}
	return c.out.fail(c.log, fmt.Errorf("%s: %w", c.action, err))
}

// doStart: Probe (R7), then Online unless the resource runs already.
func (c *call) doStart(d deadlines) ExitCode {
	w, err := c.open(d.work, c.vals)
	if err != nil {
		return c.fail(err)
	}
	state, perr := w.Probe(d.work)
	switch {
	case perr == nil && state == resource.Online:
		c.log.Info("already running")
		c.finish(d.close, w, true)
		return ExitSuccess
	case errors.Is(perr, resource.ErrCheckTimeout) || (state == resource.Offline && !errors.Is(perr, resource.ErrNotRunning)):
		c.finish(d.close, w, false)
		return c.fail(fmt.Errorf("probing before the start: %w", explain(d.work, perr)))
	case state == resource.Failed:
		c.log.Warn("the probe found the resource failed; starting it", "err", perr)
	}
	if err := w.SetPolicy(c.policy(c.remaining())); err != nil {
		c.finish(d.close, w, false)
		return c.fail(err)
	}
	if _, err := w.Online(); err != nil {
		c.finish(d.close, w, false)
		return c.fail(err)
	}
	// The wrapper's deadline ends the Online at op (R11); d.work bounds
	// an Online that waits without a time-out (R12).
	err = w.Wait(d.work)
	if err == nil && w.State() == resource.Online {
		c.log.Info("started")
		c.finish(d.close, w, true)
		return ExitSuccess
	}
	if err == nil {
		err = fmt.Errorf("the resource is %v after its Online", w.State())
	}
	err = explain(d.work, err)
	// Not detached: Close terminates what the failed start left (R18).
	c.finish(d.close, w, false)
	return c.fail(err)
}

// doStop: Probe (R7), then Offline, which escalates to Terminate (R16),
// unless the resource is stopped already.
func (c *call) doStop(d deadlines) ExitCode {
	w, err := c.open(d.work, c.vals)
	if err != nil {
		return c.fail(err)
	}
	state, perr := w.Probe(d.work)
	switch {
	case state == resource.Offline && errors.Is(perr, resource.ErrNotRunning):
		c.log.Info("already stopped")
		c.finish(d.close, w, false)
		return ExitSuccess
	case state == resource.Offline:
		// The probe was cut short (the parent context ended): whether it
		// runs is not known. Close terminates what the probe left (R18).
		c.finish(d.close, w, false)
		return c.fail(fmt.Errorf("the probe before the stop did not answer: %w", explain(d.work, perr)))
	}
	if err := w.SetPolicy(c.policy(c.remaining())); err != nil {
		c.finish(d.close, w, false)
		return c.fail(err)
	}
	if _, err := w.Offline(); err != nil {
		c.finish(d.close, w, false)
		return c.fail(err)
	}
	err = w.Wait(d.work)
	if w.State() == resource.Offline {
		if c.forced.Load() {
			// The Offline hung and the Terminator stopped the resource
			// (R16): its word is the answer, as for a forced stop below.
			c.log.Warn("stopped by Terminate: Offline did not return in time")
			c.finish(d.close, w, false)
			return ExitSuccess
		}
		return c.confirmStopped(d, w)
	}
	if err == nil {
		err = fmt.Errorf("the resource is %v after its Offline", w.State())
	}
	err = explain(d.work, err)
	// The Offline failed (R2: OfflinePending → Failed). Pacemaker fences a
	// node whose stop fails, so force it while the budget lasts: the
	// resource's Terminator, through the wrapper (R17), decides.
	if _, ok := w.Resource().(resource.Terminator); ok && w.State() == resource.Failed && d.work.Err() == nil {
		terr := w.Terminate(d.work)
		if terr == nil {
			c.log.Warn("Offline failed; terminated", "err", err)
			c.finish(d.close, w, false)
			return ExitSuccess
		}
		err = fmt.Errorf("%w; Terminate: %w", err, explain(d.work, terr))
	}
	c.finish(d.close, w, false)
	return c.fail(err)
}

// confirmStopped answers a stop whose Offline returned nil: a second Probe
// must find the resource not running (R7), or the stop fails, since
// Pacemaker takes a successful stop as leave to start the resource
// elsewhere.
func (c *call) confirmStopped(d deadlines, w *wrapper.Wrapper) ExitCode {
	if err := w.SetPolicy(c.policy(c.plan.work() - c.a.clock.Since(c.start))); err != nil {
		c.finish(d.close, w, false)
		return c.fail(err)
	}
	state, perr := w.Probe(d.work)
	c.finish(d.close, w, false)
	if state == resource.Offline && errors.Is(perr, resource.ErrNotRunning) {
		c.log.Info("stopped")
		return ExitSuccess
	}
	if perr == nil {
		perr = errors.New("it runs")
	}
	return c.fail(fmt.Errorf("the resource's Offline returned, but a probe after it finds the resource %v: %w", state, explain(d.work, perr)))
}

// doMonitor: Probe (R7) answers.
func (c *call) doMonitor(d deadlines) ExitCode {
	w, err := c.open(d.work, c.vals)
	if err != nil {
		return c.fail(err)
	}
	state, perr := w.Probe(d.work)
	c.finish(d.close, w, true) // a monitor changes nothing
	switch {
	case perr == nil && state == resource.Online:
		c.log.Debug("running")
		return ExitSuccess
	case state == resource.Offline && errors.Is(perr, resource.ErrNotRunning):
		c.log.Debug("not running", "why", perr)
		return ExitNotRunning
	case perr == nil:
		perr = fmt.Errorf("the probe left the resource %v", state)
	}
	return c.fail(explain(d.work, perr))
}

// doValidate: the parameters decoded; the resource opens (R40).
func (c *call) doValidate(d deadlines) ExitCode {
	w, err := c.open(d.work, c.vals)
	if err != nil {
		return c.fail(err)
	}
	c.finish(d.close, w, true)
	return ExitSuccess
}

// doReload hands the new values to a running resource (R58).
func (c *call) doReload(d deadlines) ExitCode {
	schema := c.a.t.Schema()
	full := schema.Defaults().Merge(c.vals)
	// The running resource's own values are not known in a fresh program:
	// the wrapper is told it runs without its reloadable ones, so that
	// SetProperties sees exactly those change, and hands the whole set to
	// the resource at once.
	base := full.Clone()
	for _, p := range schema.Properties() {
		if p.Reloadable {
			base.Delete(p.Name)
		}
	}
	w, err := c.open(d.work, base)
	if err != nil {
		return c.fail(err)
	}
	state, perr := w.Probe(d.work)
	switch {
	case state == resource.Offline && errors.Is(perr, resource.ErrNotRunning):
		c.log.Info("not running: the values apply at the next start")
		c.finish(d.close, w, true)
		return ExitSuccess
	case perr != nil || state != resource.Online:
		c.finish(d.close, w, true)
		if perr == nil {
			perr = fmt.Errorf("the probe left the resource %v", state)
		}
		return c.fail(explain(d.work, perr))
	}
	err = w.SetProperties(d.work, full)
	c.finish(d.close, w, true)
	if err != nil {
		return c.fail(explain(d.work, err))
	}
	c.log.Info("reloaded")
	return ExitSuccess
}
