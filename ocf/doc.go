// Package ocf runs any resource type as a Pacemaker OCF resource agent (OCF
// 1.1): the host of the contract on Linux clusters, beside the monitor
// in-process and the Windows resource DLL (CONTRACT R7, R10–R18, R50–R52,
// R58).
//
// A program becomes an agent with one call, here as examples/ocf-agent
// makes one (abridged: the example also sets a logger, a version and
// descriptions):
//
//	func main() {
//		ocf.Main(process.Type(), ocf.Options{
//			Name: "process",
//			Policy: wrapper.Policy{
//				PendingTimeout:   20 * time.Second, // start and stop
//				TerminateTimeout: 10 * time.Second, // a stop that escalates (R16)
//				CheckTimeout:     20 * time.Second, // monitor
//				IsAliveInterval:  10 * time.Second, // monitor's interval
//			},
//		})
//	}
//
// Its meta-data's time-out hints are then 30 s, which give each operation
// its full 20 s inside the budget described under Time (with the default
// policy's 180 s, 234 s). The program is installed as /usr/lib/ocf/resource.d/<provider>/<name>. Pacemaker runs
// the program once per action, with the action as its argument and the
// resource's parameters in OCF_RESKEY_<name> variables; [Agent.Run] is that
// one invocation, callable from Go, and [Main] wires it to the process.
//
// # State is the real world
//
// Each action runs in a fresh program, so the agent keeps no state between
// actions, not even a file: it opens the resource, wraps it
// ([wrapper.New]), and asks the resource whether it runs with the wrapper's
// Probe (R7). monitor answers from that, stop on a stopped resource and
// start on a running one succeed at once, and otherwise start and stop run
// Online and Offline under the wrapper. A resource whose instance must
// outlive the program implements [Detacher].
//
// # Time
//
// Pacemaker gives each action a time-out (OCF_RESKEY_CRM_meta_timeout)
// and at the time-out its executor sends SIGKILL to the agent's process
// group, with no SIGTERM first. The agent therefore works inside a budget:
// the operation gets the time-out less a margin ([Options.Margin]) and less
// a share kept for clean-up, in which a stop escalates to Terminate (R16)
// and a start that could not finish is terminated (R18); then the agent
// exits with a reason, before the SIGKILL. The probe that start, stop and
// reload-agent run first has the policy's CheckTimeout, at most a third of
// the operation's budget, so that a slow IsAlive leaves the operation the
// rest. Meta-data's time-out hints are the time-outs whose budget gives
// each operation its full time from the policy ([Agent.MetaData]).
//
// # Exit codes and parameters
//
// Exit codes are the OCF standard's ([ExitCode]); errors map to them by the
// sentinels they wrap ([ExitCodeOf]). A failed action writes one line
// "ocf-exit-reason:<why>" to standard error, which Pacemaker shows. The
// parameters are decoded into the type's schema and checked as a whole
// (R52); meta-data is generated from the schema ([Agent.MetaData]).
package ocf
