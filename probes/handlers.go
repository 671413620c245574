package probes

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/holdfast-dev/holdfast/internal/state"
)

// liveBody is the /livez answer. status is "degraded" when the app is held,
// backing off or has no process: holdfast itself is alive (200), but a
// human reading the body should see that the app is not.
type liveBody struct {
	Status     string            `json:"status"`
	Phase      state.Phase       `json:"phase"`
	Ready      bool              `json:"ready"`
	Run        int               `json:"run"`
	HoldReason *state.HoldReason `json:"hold_reason,omitempty"`
}

// readyBody is the /readyz answer.
type readyBody struct {
	Status string      `json:"status"`
	Reason string      `json:"reason,omitempty"`
	Phase  state.Phase `json:"phase"`
}

// livez is 200 for as long as holdfast serves, held included: a liveness
// failure makes kubelet kill the container, and with it the held app and its
// evidence (docs/contract.md "HTTP").
func (s *Server) livez(w http.ResponseWriter, r *http.Request) {
	snap := s.store.Load()
	b := liveBody{Status: "ok", Phase: snap.Phase, Ready: snap.Ready, Run: snap.Run, HoldReason: snap.HoldReason}
	if degraded(snap) {
		b.Status = "degraded"
	}
	writeJSON(w, http.StatusOK, b)
}

// readyz is 200 only when the snapshot is ready; otherwise 503 with a
// reason, one line that names the cause when the current run ended with
// one. (kubelet does not record an HTTP probe's body; the same line from
// `holdfast probe ready`, an exec probe, reaches the pod's events.)
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	snap := s.store.Load()
	if snap.Ready {
		writeJSON(w, http.StatusOK, readyBody{Status: "ready", Phase: snap.Phase})
		return
	}
	writeJSON(w, http.StatusServiceUnavailable, readyBody{Status: "not ready", Reason: snap.WithWhy(notReadyReason(snap)), Phase: snap.Phase})
}

// status writes the snapshot exactly as its MarshalJSON does, so /status and
// `holdfast status --json` cannot drift apart.
func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.store.Load())
}

func degraded(snap state.Snapshot) bool {
	return snap.Phase == state.Held || snap.Phase == state.Backoff || snap.PID <= 0
}

// notReadyReason prefers the supervisor's own words and otherwise says what
// the phase means for traffic.
func notReadyReason(snap state.Snapshot) string {
	if snap.NotReadyReason != "" {
		return snap.NotReadyReason
	}
	switch snap.Phase {
	case state.Held:
		if snap.HoldReason != nil && *snap.HoldReason != "" {
			return "app is held (" + string(*snap.HoldReason) + ")"
		}
		return "app is held"
	case state.Backoff:
		return "app exited and is waiting to restart"
	case state.Starting:
		return "app is starting"
	case state.Running:
		return "app has not reported ready"
	case state.Stopping:
		return "app is stopping"
	case state.Exited:
		return "app has exited"
	}
	return "app is not ready"
}

// writeJSON writes v with an explicit length: probe answers are small, and a
// length lets HEAD and keep-alive clients know where the answer ends.
func writeJSON(w http.ResponseWriter, code int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Only a programming error gets here (the types are fixed).
		http.Error(w, "cannot encode answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	w.Write(body)
}
