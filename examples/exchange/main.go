// Command exchange plays the seed's scenario: an Exchange 2003 virtual
// server hosted by the resdll monitor, on a mock clock the program drives,
// narrated as a timeline.
//
//	go run ./examples/exchange         # a few seconds, mock clock
//	go run ./examples/exchange -real   # the same story on the real clock, time-outs scaled down
//
// The virtual server EVS1 is a group (R70, R71): the System Attendant;
// the Information Store and the MTA depending on it; SMTP, IMAP4 and HTTP
// virtual servers depending on the Store, on one shared service per
// protocol with a command bit per virtual server (R60). The story: the
// group comes online in dependency order (the Store mounts without a
// time-out, R12); taking one SMTP virtual server offline stops the SMTP
// service and the other's check brings it back (R61); an administrator
// stops the SMTP service and the monitor restarts it (R62); a property
// change is stored and synced (EXSETDATA's role) and an out-of-band edit
// shows as drift and is reconciled (R53–R55); the Store's dismount hangs
// and is terminated (R16); a failing MTA is restarted twice, then its group
// is failed over (R31, R71).
package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/resdll/resdll/monitor"
	"github.com/resdll/resdll/properties"
	"github.com/resdll/resdll/resource"
	"github.com/resdll/resdll/wrapper"
)

func main() {
	real := flag.Bool("real", false, "run on the real clock, time-outs divided by 60")
	flag.Parse()
	var d driver
	if *real {
		d = realDriver{scale: 60}
	} else {
		d = &mockDriver{clk: clock.NewMock(), settle: func() { time.Sleep(2 * time.Millisecond) }}
	}
	if err := run(os.Stdout, d); err != nil {
		fmt.Fprintln(os.Stderr, "exchange:", err)
		os.Exit(1)
	}
}

// driver moves time: a mock clock stepped by the program, or the real one.
type driver interface {
	clock() clock.Clock
	// dur scales a story duration to the driver's.
	dur(d time.Duration) time.Duration
	// until advances time until ok holds, at most max (story time).
	until(ok func() bool, max time.Duration) error
}

// advance lets d of story time pass.
func advance(d driver, x time.Duration) { _ = d.until(func() bool { return false }, x) }

// mockDriver steps a mock clock one second at a time; after each step
// settle lets what the step woke finish (the test's settle is exact:
// synctest.Wait in a bubble).
type mockDriver struct {
	clk    *clock.Mock
	settle func()
}

func (d *mockDriver) clock() clock.Clock                { return d.clk }
func (d *mockDriver) dur(x time.Duration) time.Duration { return x }
func (d *mockDriver) until(ok func() bool, max time.Duration) error {
	for waited := time.Duration(0); ; waited += time.Second {
		d.settle()
		if ok() {
			return nil
		}
		if waited >= max {
			return fmt.Errorf("not done after %v of story time", max)
		}
		d.clk.Add(time.Second)
	}
}

type realDriver struct{ scale time.Duration }

func (realDriver) clock() clock.Clock                  { return clock.New() }
func (r realDriver) dur(x time.Duration) time.Duration { return x / r.scale }
func (r realDriver) until(ok func() bool, max time.Duration) error {
	deadline := time.Now().Add(r.dur(max))
	for !ok() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not done after %v", r.dur(max))
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// line is one entry of the timeline.
type line struct {
	at       time.Duration
	resource string // "" for the narration, which comes first at its instant
	seq      uint64
	text     string
}

// timeline collects events and narration, to print in a fixed order:
// time, resource, sequence.
type timeline struct {
	start time.Time
	mu    sync.Mutex
	lines []line
}

func (t *timeline) event(e resource.Event) {
	var text string
	switch e.Kind {
	case resource.StateChanged:
		text = fmt.Sprintf("%v → %v", e.From, e.To)
		if e.Forced {
			text += " (forced)"
		}
	case resource.FailoverRequested, resource.GroupReadyToMove:
		text = fmt.Sprintf("%v: group %s", e.Kind, e.Group)
	default:
		text = e.Kind.String()
	}
	if why := reason(e); why != "" {
		text += "  — " + why
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, line{at: e.Time.Sub(t.start), resource: e.Resource, seq: e.Seq, text: text})
}

// reason says why an event happened, when something went wrong.
func reason(e resource.Event) string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return ""
}

func (t *timeline) say(now time.Time, format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, line{at: now.Sub(t.start), seq: uint64(len(t.lines)), text: "▶ " + fmt.Sprintf(format, args...)})
}

func (t *timeline) print(out io.Writer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	slices.SortStableFunc(t.lines, func(a, b line) int {
		return cmp.Or(cmp.Compare(a.at, b.at), strings.Compare(a.resource, b.resource), cmp.Compare(a.seq, b.seq))
	})
	for _, l := range t.lines {
		who := l.resource
		if who == "" {
			who = "EVS1"
		}
		fmt.Fprintf(out, "%8s  %-6s %s\n", fmtDur(l.at), who, l.text)
	}
}

func fmtDur(d time.Duration) string {
	m, s := d/time.Minute, (d % time.Minute).Seconds()
	return fmt.Sprintf("%02d:%04.1f", m, s)
}

// members of the group, in the order the summary prints them.
var members = []string{"SA", "Store", "MTA", "SMTP-1", "SMTP-2", "IMAP-1", "HTTP-1"}

func run(out io.Writer, d driver) error {
	ctx := context.Background()
	clk := d.clock()
	srv := newServer(clk)
	tl := &timeline{start: clk.Now()}

	m, err := monitor.New(monitor.Options{Clock: clk, DefaultPolicy: monitor.Policy{Policy: wrapper.Policy{
		PendingTimeout:     d.dur(3 * time.Minute),
		TerminateTimeout:   d.dur(30 * time.Second),
		IsAliveInterval:    d.dur(10 * time.Second), // EXRES checks every 10 s
		LooksAliveInterval: resource.Never,
	}, RestartDelay: d.dur(500 * time.Millisecond)}})
	if err != nil {
		return err
	}
	if err := registerTypes(m, srv, d); err != nil {
		return err
	}
	sub := m.Subscribe(4096)
	pumped := make(chan struct{})
	go func() { // the event pump; it ends when run closes the subscription
		defer close(pumped)
		for e := range sub.C() {
			tl.event(e)
		}
	}()
	say := func(format string, args ...any) { tl.say(clk.Now(), format, args...) }
	state := func(name string) resource.State { st, _ := m.Status(name); return st.State }
	all := func(want resource.State) func() bool {
		return func() bool {
			for _, n := range members {
				if state(n) != want {
					return false
				}
			}
			return true
		}
	}
	is := func(name string, want resource.State) func() bool { return func() bool { return state(name) == want } }

	for _, r := range []monitor.Spec{
		{Name: "SA", Type: "Exchange System Attendant"},
		{Name: "Store", Type: "Exchange Information Store", DependsOn: []string{"SA"}},
		{Name: "MTA", Type: "Exchange Message Transfer Agent", DependsOn: []string{"SA"}},
		{Name: "SMTP-1", Type: "Exchange SMTP Virtual Server", DependsOn: []string{"Store"}, Properties: mustValues(map[string]any{"Port": uint32(25)})},
		{Name: "SMTP-2", Type: "Exchange SMTP Virtual Server", DependsOn: []string{"Store"}, Properties: mustValues(map[string]any{"Port": uint32(2525)})},
		{Name: "IMAP-1", Type: "Exchange IMAP4 Virtual Server", DependsOn: []string{"Store"}},
		{Name: "HTTP-1", Type: "Exchange HTTP Virtual Server", DependsOn: []string{"Store"}},
	} {
		r.Group = "EVS1"
		if err := m.Add(ctx, r); err != nil {
			return err
		}
	}

	// 1. The group comes online in dependency order; the Store mounts for
	// four minutes without a time-out (R12).
	say("bring EVS1 online: System Attendant first, the Store mounts its database (4 min, no time-out)")
	groupDone := make(chan error, 1)
	go func() { groupDone <- m.OnlineGroup(ctx, "EVS1") }()
	if err := d.until(all(resource.Online), 10*time.Minute); err != nil {
		return fmt.Errorf("group online: %w", err)
	}
	if err := <-groupDone; err != nil {
		return err
	}
	say("EVS1 is online; health checks every 10 s")
	advance(d, time.Minute)

	// 2. R61: one SMTP virtual server offline stops the whole SMTP
	// service; the other's check starts it again with its bit.
	say("operator: take SMTP-2 offline (this stops SMTPSVC for every SMTP virtual server)")
	if _, err := m.Offline("SMTP-2"); err != nil {
		return err
	}
	if err := d.until(func() bool { return state("SMTP-2") == resource.Offline && srv.running("SMTPSVC") }, time.Minute); err != nil {
		return fmt.Errorf("SMTP-1's check did not restart SMTPSVC: %w", err)
	}
	say("SMTP-1's check found SMTPSVC stopped by the cluster and started it again; bits set: %s; SMTP-1 stayed Online", strings.Join(srv.bitsOf("SMTPSVC"), ", "))
	if _, err := m.Online("SMTP-2"); err != nil {
		return err
	}
	if err := d.until(is("SMTP-2", resource.Online), time.Minute); err != nil {
		return err
	}

	// 3. R62: an administrator stops the SMTP service; the checks fail and
	// the monitor restarts the virtual servers.
	say("administrator: net stop smtpsvc (outside the cluster)")
	srv.adminStop("SMTPSVC")
	restarted := func() bool {
		a, _ := m.Status("SMTP-1")
		b, _ := m.Status("SMTP-2")
		return a.Restarts == 1 && b.Restarts == 1 && a.State == resource.Online && b.State == resource.Online
	}
	if err := d.until(restarted, time.Minute); err != nil {
		return fmt.Errorf("SMTP not restarted: %w", err)
	}
	say("the monitor restarted both SMTP virtual servers; SMTPSVC runs with bits %s", strings.Join(srv.bitsOf("SMTPSVC"), ", "))

	// 4. R53–R55, R58: properties set, synced, drifted, reconciled.
	out1, err := m.Control(ctx, "SMTP-1", monitor.CodeSetPrivateProperties, []byte(`{"LogLevel": 3}`))
	if err != nil {
		return err
	}
	say("operator: set SMTP-1 LogLevel=3 → %s; EXSETDATA wrote it to the server's configuration", outcome(out1))
	out2, err := m.Control(ctx, "SMTP-1", monitor.CodeSetPrivateProperties, []byte(`{"Port": 587}`))
	if err != nil && !isStored(err) {
		return err
	}
	say("operator: set SMTP-1 Port=587 → %s (Port is not reloadable)", outcome(out2))
	srv.editConfig("SMTP-1", "Port", uint32(465))
	say("administrator: edits SMTP-1's port to 465 in Exchange System Manager, behind the cluster's back")
	diffs, err := m.Drift(ctx, "SMTP-1")
	if err != nil {
		return err
	}
	for _, df := range diffs {
		say("drift on SMTP-1: %s is %v in the cluster database, %v on the server", df.Name, df.Stored, df.App)
	}
	if _, err := m.Reconcile(ctx, "SMTP-1", properties.ToApplication); err != nil {
		return err
	}
	diffs, err = m.Drift(ctx, "SMTP-1")
	if err != nil {
		return err
	}
	say("reconciled from the cluster database: %d differences left", len(diffs))

	// 5. R16: the Store's dismount hangs and is terminated. Its dependents
	// go offline first (R70).
	srv.set(func() { srv.hangDismount = true })
	say("operator: take the Store offline (its protocols go first); the dismount hangs")
	if _, err := m.Offline("Store"); err != nil {
		return err
	}
	if err := d.until(is("Store", resource.Offline), 10*time.Minute); err != nil {
		return fmt.Errorf("store offline: %w", err)
	}
	say("PendingTimeout passed: the Store process was terminated")
	srv.set(func() { srv.hangDismount = false })
	say("operator: bring EVS1 online again")
	go func() { groupDone <- m.OnlineGroup(ctx, "EVS1") }()
	if err := d.until(all(resource.Online), 10*time.Minute); err != nil {
		return fmt.Errorf("group online again: %w", err)
	}
	if err := <-groupDone; err != nil {
		return err
	}

	// 6. R31, R71: a failing MTA is restarted twice, then the group is
	// failed over.
	say("the MTA stops answering")
	srv.set(func() { srv.mtaBroken = true })
	requested := func() bool { st, _ := m.Status("MTA"); return st.Failover == monitor.FailoverRequested }
	if err := d.until(requested, 5*time.Minute); err != nil {
		return fmt.Errorf("no failover request: %w", err)
	}
	say("restart policy spent (2 restarts in 15 min): the cluster layer accepts the failover of EVS1")
	if err := m.AcceptFailover("EVS1"); err != nil {
		return err
	}
	if err := d.until(all(resource.Offline), 10*time.Minute); err != nil {
		return fmt.Errorf("group offline for failover: %w", err)
	}

	// The summary, then shut down.
	advance(d, 2*time.Second)
	sts := make([]monitor.Status, len(members))
	for i, n := range members {
		if sts[i], err = m.Status(n); err != nil {
			return err
		}
	}
	if err := m.Shutdown(ctx); err != nil {
		return err
	}
	sub.Close()
	<-pumped
	tl.print(out)
	fmt.Fprintf(out, "\n%-8s %-8s %8s %8s  %s\n", "resource", "state", "restarts", "failures", "last error")
	for _, st := range sts {
		last := "-"
		if st.LastFailure != nil {
			last = st.LastFailure.Error()
		}
		fmt.Fprintf(out, "%-8s %-8s %8d %8d  %s\n", st.Name, st.State, st.Restarts, st.Failures, last)
	}
	return nil
}
