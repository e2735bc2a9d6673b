// Command scale is resdll's performance report (issue 10): it hosts N
// Online resources with no-op health checks on the real clock and measures
// what the engine costs per check and per resource, how late checks run,
// how fast a failure reported through the notifier leads to a restart, and
// how late pending time-outs fire with many hung operations. In the same
// run, on the same workload, it measures three baselines beside it, and
// prints the engine's figures as ratios to each:
//
//   - seed: the seed's design (EXRES's IsAliveMonitor + CheckIsAliveWrapper
//     pair): per resource a monitor goroutine with a ticker waking a check
//     goroutine, and a time-out timer per check;
//   - afterfunc: a bare time.AfterFunc per resource;
//   - heap: a bare central timer heap with one timer and a worker pool (the
//     floor).
//
// Before the parts it measures how long an idle processor takes to run a
// goroutine made runnable for it (idle processor wake-up): on a VM whose
// idle vCPUs halt, that latency decides how soon a burst gets its second
// processor, and it moves the burst figures of every system.
//
// Usage:
//
//	go run ./examples/scale -n 100000 -d 20s
//
// See BENCHMARKS.md at the repository root for the figures and what limits
// each.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/resdll/resdll/internal/rusage"
)

// checkTimeout is every system's check time-out; no-op checks never reach it.
const checkTimeout = 5 * time.Second

var epoch = time.Now()

// mono is nanoseconds on the monotonic clock since the program began.
func mono() int64 { return int64(time.Since(epoch)) }

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// checkStats counts the checks that ran and records their lateness.
type checkStats struct {
	count atomic.Int64
	lat   *samples
}

func (s *checkStats) observe(late int64) {
	s.count.Add(1)
	s.lat.add(time.Duration(late))
}

type checkSystem interface {
	start(n int, interval time.Duration, st *checkStats)
	shutdown()
}

// ownState is a check system whose resources have state of their own (the
// engine's hosted resources: the author's struct and its name). It makes it
// before the baseline reading, so bytes/resource is what the system costs
// beyond the resource's own, as issue 10's target counts it.
type ownState interface {
	prepare(n int, interval time.Duration, st *checkStats)
}

type failSystem interface {
	setup(n int, restart restartFunc)
	fail(i int)
	teardown()
}

var systems = []string{"ours", "seed", "afterfunc", "heap"}

// config is what the flags choose.
type config struct {
	n, failN, timeoutN, sparse int
	d, interval, spread, lead  time.Duration
	parts, systems             []string
	memprofile, cpuprofile     string
	tracefile                  string
	wakeSamples                int
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(2)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	var c config
	var parts, syss string
	fs.IntVar(&c.n, "n", 100_000, "resources hosted for the check measurements")
	fs.DurationVar(&c.d, "d", 20*time.Second, "measurement window of the check measurements, per system")
	fs.DurationVar(&c.interval, "interval", time.Second, "IsAlive interval: N/interval checks per second")
	fs.IntVar(&c.failN, "fail-n", 0, "resources hosted for the failure measurements, all failing at once in the storm (default N/10)")
	fs.IntVar(&c.sparse, "sparse", 2000, "sparse failures, one at a time (at most fail-n)")
	fs.IntVar(&c.timeoutN, "timeout-n", 0, "concurrent hung operations for the time-out measurements (default N/10)")
	fs.DurationVar(&c.spread, "spread", time.Second, "the hung operations' deadlines are spread over this")
	fs.DurationVar(&c.lead, "lead", 0, "from the start of the time-out part to the first deadline (default 200ms + 20µs per hung operation)")
	fs.StringVar(&parts, "parts", "checks,fail,timeout", "which parts run, comma-separated")
	fs.StringVar(&syss, "systems", strings.Join(systems, ","), "which systems run, comma-separated: ours is always first")
	fs.StringVar(&c.memprofile, "memprofile", "", "write a heap profile of the engine's hosted resources (taken where bytes/resource is) to this file")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	fs.StringVar(&c.tracefile, "trace", "", "write an execution trace of the whole run to this file (go tool trace)")
	fs.IntVar(&c.wakeSamples, "wake-samples", 64, "samples of the idle processor's wake-up latency, printed before the parts (0: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.n <= 0 || c.d <= 0 || c.interval <= 0 || c.spread < 0 {
		return fmt.Errorf("-n, -d and -interval must be positive, -spread not negative")
	}
	if c.failN <= 0 {
		c.failN = max(c.n/10, 1)
	}
	if c.timeoutN <= 0 {
		c.timeoutN = max(c.n/10, 1)
	}
	c.sparse = min(c.sparse, c.failN)
	c.parts = strings.Split(parts, ",")
	c.systems = strings.Split(syss, ",")
	for _, s := range c.systems {
		if !slices.Contains(systems, s) {
			return fmt.Errorf("-systems: unknown %q (known: %s)", s, strings.Join(systems, ", "))
		}
	}

	stopCPU, err := record(c.cpuprofile, pprof.StartCPUProfile, pprof.StopCPUProfile)
	if err != nil {
		return err
	}
	defer stopCPU()
	stopTrace, err := record(c.tracefile, trace.Start, trace.Stop)
	if err != nil {
		return err
	}
	defer stopTrace()

	r := &report{cfg: c, vals: map[string]map[string]float64{}}
	fmt.Fprintf(out, "resdll scale: %s %s/%s, GOMAXPROCS %d, %s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), cpuModel())
	if c.wakeSamples > 0 {
		printMachine(out, c.wakeSamples)
	}
	for _, p := range c.parts {
		switch p {
		case "checks":
			fmt.Fprintf(out, "checks: N=%d, interval %v (%.0f checks/s), window %v\n", c.n, c.interval, float64(c.n)/c.interval.Seconds(), c.d)
			for _, s := range c.systems {
				r.checks(s)
			}
		case "fail":
			fmt.Fprintf(out, "failures: %d hosted, %d sparse, storm of %d\n", c.failN, c.sparse, c.failN)
			for _, s := range c.systems {
				r.failures(s)
			}
		case "timeout":
			fmt.Fprintf(out, "time-outs: %d hung operations, deadlines spread over %v, then all on one\n", c.timeoutN, c.spread)
			for _, s := range c.systems {
				r.timeouts(s)
			}
		case "":
		default:
			return fmt.Errorf("-parts: unknown %q (known: checks, fail, timeout)", p)
		}
	}
	r.print(out)
	return nil
}

// report holds each metric's value per system, in the order measured.
type report struct {
	cfg     config
	metrics []string
	vals    map[string]map[string]float64
}

func (r *report) set(metric, system string, v float64) {
	if r.vals[metric] == nil {
		r.vals[metric] = map[string]float64{}
		r.metrics = append(r.metrics, metric)
	}
	r.vals[metric][system] = v
}

func (r *report) print(out io.Writer) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "metric\t" + strings.Join(r.cfg.systems, "\t")
	for _, s := range r.cfg.systems[1:] {
		head += "\t" + r.cfg.systems[0] + "/" + s
	}
	fmt.Fprintln(tw, head+"\t")
	for _, m := range r.metrics {
		line := m
		for _, s := range r.cfg.systems {
			v, ok := r.vals[m][s]
			if !ok {
				line += "\t-"
				continue
			}
			line += "\t" + fmtVal(v)
		}
		base, ok := r.vals[m][r.cfg.systems[0]]
		for _, s := range r.cfg.systems[1:] {
			v, ok2 := r.vals[m][s]
			if !ok || !ok2 || v == 0 {
				line += "\t-"
				continue
			}
			line += fmt.Sprintf("\t%.2f×", base/v)
		}
		fmt.Fprintln(tw, line+"\t")
	}
	tw.Flush()
}

func fmtVal(v float64) string {
	switch {
	case v == float64(int64(v)) && v < 1e9:
		return fmt.Sprint(int64(v))
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

// heapStack is the live heap and stack after two collections.
func heapStack() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc + ms.StackInuse
}

func newCheckSystem(name string) checkSystem {
	switch name {
	case "seed":
		return &seedChecks{}
	case "afterfunc":
		return &afterFuncChecks{}
	case "heap":
		return &heapChecks{}
	}
	return &oursChecks{}
}

// checks hosts N resources on system name and measures it: memory and
// goroutines after one interval, then CPU, counts and lateness over the
// window.
func (r *report) checks(name string) {
	c := r.cfg
	expected := float64(c.n) * c.d.Seconds() / c.interval.Seconds()
	st := &checkStats{lat: newSamples(min(int(expected*1.2)+1000, 4_000_000))}
	sys := newCheckSystem(name)
	if o, ok := sys.(ownState); ok {
		o.prepare(c.n, c.interval, st)
	}
	g0, m0 := runtime.NumGoroutine(), heapStack()

	sys.start(c.n, c.interval, st)
	time.Sleep(c.interval + c.interval/2) // every resource is checked at least once
	g1, m1 := runtime.NumGoroutine(), heapStack()
	if c.memprofile != "" && name == "ours" {
		f, err := os.Create(c.memprofile)
		must(err)
		must(pprof.Lookup("heap").WriteTo(f, 0))
		must(f.Close())
	}

	st.lat.reset()
	n0, cpu0, t0 := st.count.Load(), rusage.CPUTime(), time.Now()
	time.Sleep(c.d)
	n1, cpu1, el := st.count.Load(), rusage.CPUTime(), time.Since(t0)
	if o, ok := sys.(*oursChecks); ok {
		r.set("resources failed (by checks)", name, float64(o.notOnline()))
	}
	sys.shutdown()

	ran := float64(n1 - n0)
	exp := float64(c.n) * el.Seconds() / c.interval.Seconds()
	p50, p99 := st.lat.quantiles()
	r.set("bytes/resource (heap+stack, beyond its own)", name, (float64(m1)-float64(m0))/float64(c.n))
	r.set("goroutines/resource", name, float64(g1-g0)/float64(c.n))
	if ran > 0 {
		r.set("CPU µs/check", name, us(cpu1-cpu0)/ran)
	}
	r.set("checks ran/expected", name, ran/exp)
	r.set("check lateness p50 µs", name, us(p50))
	r.set("check lateness p99 µs", name, us(p99))
	debug.FreeOSMemory()
}

func newFailSystem(name string) failSystem {
	switch name {
	case "seed":
		return &seedFail{}
	case "afterfunc":
		return &afterFuncFail{}
	case "heap":
		return &heapFail{}
	}
	return &oursFail{}
}

// failures measures failure → restart begins: sparse failures one at a
// time, then every hosted resource failing at once.
func (r *report) failures(name string) {
	c := r.cfg
	lat := newSamples(c.failN + c.sparse)
	done := make(chan struct{}, c.failN+c.sparse)
	var restarted atomic.Int64
	sys := newFailSystem(name)
	sys.setup(c.failN, func(t int64) {
		lat.add(time.Duration(mono() - t))
		restarted.Add(1)
		done <- struct{}{}
	})
	o, ours := sys.(*oursFail)
	for i := range c.sparse {
		idx := i * c.failN / c.sparse
		sys.fail(idx)
		<-done
		if ours {
			o.settleOne(idx) // Online again before the next failure
		}
	}
	p50, p99 := lat.quantiles()
	r.set("sparse failure→restart p50 µs", name, us(p50))
	r.set("sparse failure→restart p99 µs", name, us(p99))

	lat.reset()
	restarted.Store(0)
	t0 := mono()
	for i := range c.failN {
		sys.fail(i)
	}
	timeout := time.After(time.Minute)
	got := 0
wait:
	for got < c.failN {
		select {
		case <-done:
			got++
		case <-timeout:
			break wait
		}
	}
	drain := time.Duration(mono() - t0)
	if ours {
		o.settle()
	}
	sys.teardown()
	p50, p99 = lat.quantiles()
	r.set("storm failure→restart p50 µs", name, us(p50))
	r.set("storm failure→restart p99 µs", name, us(p99))
	r.set("storm drained ms", name, float64(drain.Microseconds())/1e3)
	r.set("storm restarts lost", name, float64(c.failN-got))
	debug.FreeOSMemory()
}

// timeouts measures pending time-out lateness with timeoutN hung
// operations, their deadlines spread over the spread, then all on one.
func (r *report) timeouts(name string) {
	c := r.cfg
	run := map[string]func([]int64, *samples){
		"ours": oursTimeouts, "seed": seedTimeouts, "afterfunc": afterFuncTimeouts, "heap": heapTimeouts,
	}[name]
	// Setting up the operations takes a while: the first deadline comes
	// after it.
	lead := c.lead
	if lead <= 0 {
		lead = 200*time.Millisecond + time.Duration(c.timeoutN)*20*time.Microsecond
	}
	for _, one := range []bool{false, true} {
		lat := newSamples(c.timeoutN)
		dues := make([]int64, c.timeoutN)
		first := mono() + int64(lead)
		for i := range dues {
			dues[i] = first
			if !one {
				dues[i] += int64(c.spread) * int64(i) / int64(c.timeoutN)
			}
		}
		burst := make(chan time.Duration, 1)
		if one {
			// The CPU the whole process spends from the deadline until
			// every time-out action has started, per operation: what
			// the actions cost, which bounds how soon the last can start
			// on GOMAXPROCS processors.
			go func() {
				// The first reading is taken 1 ms before the deadline,
				// when the set-up is done and the process idle: at the
				// deadline itself this goroutine competed with the burst
				// for a processor and could read late, after much of
				// the work (the seed's row once read 0.03 µs).
				time.Sleep(time.Duration(first-mono()) - time.Millisecond)
				c0 := rusage.CPUTime()
				for lat.count() < c.timeoutN && mono() < first+int64(time.Minute) {
					time.Sleep(time.Millisecond)
				}
				burst <- rusage.CPUTime() - c0
			}()
		}
		run(dues, lat)
		p50, p99 := lat.quantiles()
		what := "spread"
		if one {
			what = "one deadline"
			r.set("time-out burst CPU µs/operation", name, us(<-burst)/float64(c.timeoutN))
		}
		r.set("time-out lateness ("+what+") p50 µs", name, us(p50))
		r.set("time-out lateness ("+what+") p99 µs", name, us(p99))
		debug.FreeOSMemory()
	}
}

// cpuModel names the processor, where Linux says.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "cpu unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			if _, v, ok := strings.Cut(l, ":"); ok {
				return strings.TrimSpace(v)
			}
		}
	}
	return "cpu unknown"
}

// record starts a recorder of the whole run (a CPU profile, an execution
// trace) writing to path, when path is set, and returns what stops it and
// closes the file.
func record(path string, start func(io.Writer) error, stop func()) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := start(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { stop(); f.Close() }, nil
}
