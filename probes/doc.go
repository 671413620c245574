// Package probes serves holdfast's HTTP face on --probe-addr and checks the
// app's own health URLs.
//
// It owns:
//
//   - the probe server: GET /livez (alias /healthz), /readyz, /status and
//     /metrics, as docs/contract.md "HTTP" fixes them. /livez is 200 for as long as
//     holdfast serves, held or not, so kubelet never restarts a container that
//     holds a crashed app (the evidence would go with it). /readyz is 503 with
//     a JSON reason whenever the snapshot is not ready.
//   - holdfast's own Prometheus registry: a Collector that turns one
//     state.Store.Load per scrape into the docs/contract.md metrics, plus the Go
//     collector and the standard process_* metrics from a lean collector
//     (process.go) that keeps a scrape under 0.5 ms of CPU. /metrics is
//     served uncompressed for the same reason, and at most 4 scrapes run at
//     once (more get 503) so a scrape flood cannot starve the probes.
//   - CheckURL, the one-shot check of --app-ready-url / --app-live-url with
//     kubelet's success rule (k8s.io/kubernetes pkg/probe/http): 200-399, a
//     redirect to another host counts as success, at most 10 KiB of body read.
//
// What it must not do:
//
//   - call into the app, or wait on anything the app controls, while
//     answering a request. Every answer comes from the state snapshot, so a
//     hung app cannot make /livez slow. (CheckURL is called by the supervisor,
//     never from a handler.)
//   - change state. The package only reads the store; requests to restart,
//     release or stop go to the supervisor elsewhere.
//   - run anything in the background. There are no tickers or polling loops:
//     a held holdfast with nobody probing it costs no CPU. Polling the app's
//     health URLs is the supervisor's timer, not ours.
//   - put unbounded values into metric labels. Label values are phase names,
//     exit reasons, signal names and cause kinds from fixed sets; anything
//     else (a pid, a path, free text) is folded into "other" (for a cause
//     kind, "unknown"). A cause's summary never becomes a label.
//
// Every connection has read-header, read, write and idle timeouts and a
// header size cap, so slow or stalled clients (slowloris) cannot hold the
// probe port hostage.
//
// holdfast_app_last_exit_code is absent until the app has exited once: a
// made-up 0 would read as a clean exit, and NaN breaks alert arithmetic.
// holdfast_app_last_cause{kind} has one series per cause kind (cause.Kinds),
// 1 for the last exit's: a gauge of "why is it down now", not a label on the
// exits counter, whose series it would multiply by the kinds.
// holdfast_held_since_timestamp_seconds and
// holdfast_hold_expires_timestamp_seconds are 0 when not held (or no expiry).
package probes
