// Package crashhold decides what happens when the app exits, and owns the
// app while it runs.
//
// It has two parts:
//
//   - policy.go: the pure decision, the whole policy. Decide(policy, used,
//     end) says whether an ended run is restarted (and after which backoff,
//     or at once), held (and why), or ends holdfast, and why the run ended
//     (a runrec.EndReason): a requested stop or restart, the end of a
//     process held for a hang and a requested hold included. It takes
//     every input as an argument; its table test covers each case.
//   - the Supervisor: one goroutine that owns the app process, every timer
//     and the phase. Signals, app exits, health results and requests
//     (restart, release, stop, hold) arrive as events; each handler switches
//     on the phase and ends in one transition that logs old→new, stamps the
//     time and publishes a state.Snapshot. Nothing else signals the app but
//     the launcher's Forwarder, which sends the plain signals
//     (launcher.Direct) to the run the supervisor starts through it (Spawn).
//     Its private state of a run's stop (stop.go) is a stage that only
//     moves forward, none → term → quit → kill, and a purpose: exit,
//     restart, or let the policy decide (a hang). An exit is handled in
//     three steps (runs.go): collect (the status, the run's record, who
//     sent the signal that ended it), Decide, apply. Time comes from a
//     Clock; the scenario tests drive backoff, the crash-hold window, the
//     hold timeout and the stop's escalation with a fake one.
//
// What it drives lives elsewhere: the run records and run dirs (runrec),
// the JVM evidence flags (internal/jvmflags), the hold banner
// (internal/holdbanner), the termination message (internal/termmsg), the
// wording of an exit (internal/exitdesc). Why holdfast holds is a
// state.HoldReason; why a run ended a runrec.EndReason.
//
// The phase diagram (docs/contract.md "Phases"):
//
//	starting ──spawned──▶ running ──startup crash, budget left──▶ backoff
//	    ▲                    │  │                                     │
//	    │                    │  └──startup crash, budget spent──▶ held ◀── hang, manual
//	    └───backoff elapsed──┼────────────────────────────────────────┘  │
//	    └───restart request──┼───────────────────────────────────────────┘
//	                         │
//	any phase ──stop, release, clean exit, late crash, hold timeout──▶ stopping ──▶ exited
//
// A hang hold (running → held, reason "hang") keeps the app's process alive
// for jstack/jcmd; its pid stays in the snapshot.
//
// The package must not parse flags, serve HTTP or ssh, call wait4 (exits
// arrive from the launcher's reaper), or write in the state dir itself
// (runrec owns it).
package crashhold
