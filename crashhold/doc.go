// Package crashhold decides what happens when the app exits, and owns the
// app while it runs.
//
// It has three parts:
//
//   - policy.go: the pure decision. Decide(policy, used, end) says whether an
//     ended run is restarted (and after which backoff), held, or ends
//     holdfast. It takes every input as an argument; tests walk it with a
//     fake clock.
//   - the Supervisor: one goroutine that owns the app process, every timer
//     and the phase. Signals, app exits, health results and requests
//     (restart, release, stop, hold) arrive as events; each handler switches
//     on the phase and ends in one transition that logs old→new, stamps the
//     time and publishes a state.Snapshot. Nothing else signals the app.
//   - records.go, space.go, jvm.go, termination.go: the evidence kept per
//     run under <state-dir>/runs/<N>. Every file and directory there is
//     opened through internal/safefs, never following a link; run dirs and
//     records are holdfast's own, and the app writes only in the run's
//     jvm/ dir, which holdfast reads but never writes into. On a full disk
//     the newest run's record comes first (space.go).
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
// The package must not parse flags, serve HTTP or ssh, or call wait4: exits
// arrive from the launcher's reaper.
package crashhold
