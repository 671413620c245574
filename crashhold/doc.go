// Package crashhold decides what happens when the app exits, and owns the
// app while it runs.
//
// It has two parts:
//
//   - policy.go: the pure decision. Decide(policy, used, end) says whether an
//     ended run is restarted (and after which backoff), held, or ends
//     holdfast, and why the run ended (a runrec.EndReason). It takes every
//     input as an argument; tests walk it with a fake clock.
//   - the Supervisor: one goroutine that owns the app process, every timer
//     and the phase. Signals, app exits, health results and requests
//     (restart, release, stop, hold) arrive as events; each handler switches
//     on the phase and ends in one transition that logs old→new, stamps the
//     time and publishes a state.Snapshot. Nothing else signals the app.
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
