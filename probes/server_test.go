package probes

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/cause"
	"github.com/holdfast-dev/holdfast/internal/state"
)

// startServer serves s on 127.0.0.1:0 and shuts it down at the end of the
// test, checking that Serve then returns http.ErrServerClosed.
func startServer(t testing.TB, s *Server) (base string, l net.Listener) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return startServerOn(t, s, l), l
}

func startServerOn(t testing.TB, s *Server, l net.Listener) (base string) {
	t.Helper()
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		select {
		case err := <-served:
			if !errors.Is(err, http.ErrServerClosed) {
				t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after Shutdown")
		}
	})
	return "http://" + l.Addr().String()
}

type answer struct {
	code   int
	header http.Header
	body   []byte
}

func do(t testing.TB, client *http.Client, method, url string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return answer{res.StatusCode, res.Header, body}
}

// portCause is a cause as the extractor records it.
var portCause = &cause.Cause{Kind: cause.SpringFailureAnalysis,
	Summary: "Web server failed to start. Port 8080 was already in use. Action: Identify and stop the process that's listening on port 8080 or configure this application to listen on another port."}

func ptr[T any](v T) *T { return &v }

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestEndpointsByPhase(t *testing.T) {
	store := state.NewStore(state.Snapshot{Phase: state.Starting})
	base, _ := startServer(t, NewServer(store, nil, Options{}))
	client := &http.Client{Timeout: 10 * time.Second}

	tests := []struct {
		name       string
		snap       state.Snapshot
		liveStatus string
		readyCode  int
		reason     string
	}{
		{"running ready", state.Snapshot{Phase: state.Running, Ready: true, PID: 42, Run: 3, StartedAt: &t0},
			"ok", 200, ""},
		{"running not ready, supervisor reason", state.Snapshot{Phase: state.Running, PID: 42, Run: 3, NotReadyReason: "ready url: HTTP 503"},
			"ok", 503, "ready url: HTTP 503"},
		{"running not ready, derived", state.Snapshot{Phase: state.Running, PID: 42, Run: 3},
			"ok", 503, "app has not reported ready"},
		{"starting before spawn", state.Snapshot{Phase: state.Starting, Run: 1},
			"degraded", 503, "app is starting"},
		{"starting with pid", state.Snapshot{Phase: state.Starting, PID: 7, Run: 1},
			"ok", 503, "app is starting"},
		{"backoff", state.Snapshot{Phase: state.Backoff, Run: 2, LastExit: &state.Exit{Code: 1, Run: 2}},
			"degraded", 503, "app exited and is waiting to restart"},
		{"held startup-crash", state.Snapshot{Phase: state.Held, Run: 3, HeldSince: &t0, HoldReason: ptr(state.ReasonStartupCrash)},
			"degraded", 503, "app is held (startup-crash)"},
		{"held hang keeps pid", state.Snapshot{Phase: state.Held, PID: 42, Run: 3, HeldSince: &t0, HoldReason: ptr(state.ReasonHang)},
			"degraded", 503, "app is held (hang)"},
		{"held without reason", state.Snapshot{Phase: state.Held, Run: 3},
			"degraded", 503, "app is held"},
		{"stopping", state.Snapshot{Phase: state.Stopping, PID: 42, Run: 3},
			"ok", 503, "app is stopping"},
		{"exited", state.Snapshot{Phase: state.Exited, Run: 3},
			"degraded", 503, "app has exited"},
		// The reason names the cause when the current run ended with one.
		{"held with a cause", state.Snapshot{Phase: state.Held, Run: 3, HeldSince: &t0, HoldReason: ptr(state.ReasonStartupCrash),
			LastExit: &state.Exit{Code: 1, Run: 3, Cause: portCause}},
			"degraded", 503, "app is held (startup-crash): " + portCause.Summary},
		{"backoff with a cause", state.Snapshot{Phase: state.Backoff, Run: 2, LastExit: &state.Exit{Code: 1, Run: 2, Cause: portCause}},
			"degraded", 503, "app exited and is waiting to restart: " + portCause.Summary},
		// Negative controls: an earlier run's cause is not why the app is
		// not ready now (a later run starts, a hung app is held alive).
		{"starting after a failure", state.Snapshot{Phase: state.Running, PID: 42, Run: 4, LastExit: &state.Exit{Code: 1, Run: 3, Cause: portCause}},
			"ok", 503, "app has not reported ready"},
		{"hang-held after a failure", state.Snapshot{Phase: state.Held, PID: 42, Run: 4, HeldSince: &t0, HoldReason: ptr(state.ReasonHang),
			LastExit: &state.Exit{Code: 1, Run: 3, Cause: portCause}},
			"degraded", 503, "app is held (hang)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.snap.Version = "v1.0.0-test"
			store.Publish(tc.snap)

			for _, path := range []string{"/livez", "/healthz"} {
				a := do(t, client, "GET", base+path)
				if a.code != 200 {
					t.Errorf("%s = %d, want 200 in every phase", path, a.code)
				}
				checkJSONHeaders(t, path, a)
				var b liveBody
				if err := json.Unmarshal(a.body, &b); err != nil {
					t.Fatalf("%s body %q: %v", path, a.body, err)
				}
				if b.Status != tc.liveStatus || b.Phase != tc.snap.Phase || b.Run != tc.snap.Run {
					t.Errorf("%s body = %s, want status %q phase %q run %d", path, a.body, tc.liveStatus, tc.snap.Phase, tc.snap.Run)
				}
			}

			a := do(t, client, "GET", base+"/readyz")
			if a.code != tc.readyCode {
				t.Errorf("/readyz = %d, want %d (%s)", a.code, tc.readyCode, a.body)
			}
			checkJSONHeaders(t, "/readyz", a)
			var rb readyBody
			if err := json.Unmarshal(a.body, &rb); err != nil {
				t.Fatalf("/readyz body %q: %v", a.body, err)
			}
			wantStatus := "ready"
			if tc.readyCode != 200 {
				wantStatus = "not ready"
			}
			if rb.Status != wantStatus || rb.Reason != tc.reason || rb.Phase != tc.snap.Phase {
				t.Errorf("/readyz body = %s, want status %q reason %q phase %q", a.body, wantStatus, tc.reason, tc.snap.Phase)
			}

			a = do(t, client, "GET", base+"/status")
			checkJSONHeaders(t, "/status", a)
			want, err := json.Marshal(tc.snap)
			if err != nil {
				t.Fatal(err)
			}
			if a.code != 200 || string(a.body) != string(want) {
				t.Errorf("/status = %d %s\nwant 200 %s", a.code, a.body, want)
			}

			a = do(t, client, "GET", base+"/metrics")
			held := "0"
			if tc.snap.Phase == state.Held {
				held = "1"
			}
			if a.code != 200 || !strings.Contains(string(a.body), "\nholdfast_held "+held+"\n") {
				t.Errorf("/metrics = %d, want holdfast_held %s in:\n%.2000s", a.code, held, a.body)
			}
			if a.header.Get("Cache-Control") != "no-store" {
				t.Errorf("/metrics Cache-Control = %q", a.header.Get("Cache-Control"))
			}
		})
	}
}

func checkJSONHeaders(t *testing.T, path string, a answer) {
	t.Helper()
	if got := a.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("%s Content-Type = %q, want application/json", path, got)
	}
	if got := a.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("%s Cache-Control = %q, want no-store", path, got)
	}
}

func TestMethodsAndUnknownPaths(t *testing.T) {
	store := state.NewStore(state.Snapshot{Phase: state.Held, HoldReason: ptr(state.ReasonManual)})
	base, _ := startServer(t, NewServer(store, nil, Options{}))
	client := &http.Client{Timeout: 10 * time.Second}

	for _, path := range []string{"/livez", "/healthz", "/readyz", "/status", "/metrics"} {
		a := do(t, client, "HEAD", base+path)
		if len(a.body) != 0 || a.header.Get("Cache-Control") != "no-store" {
			t.Errorf("HEAD %s: body %q, Cache-Control %q", path, a.body, a.header.Get("Cache-Control"))
		}
		wantHead := 200
		if path == "/readyz" {
			wantHead = 503
		}
		if a.code != wantHead {
			t.Errorf("HEAD %s = %d, want %d", path, a.code, wantHead)
		}
		for _, m := range []string{"POST", "PUT", "DELETE"} {
			a := do(t, client, m, base+path)
			if a.code != http.StatusMethodNotAllowed {
				t.Errorf("%s %s = %d, want 405", m, path, a.code)
			}
			if allow := a.header.Get("Allow"); !strings.Contains(allow, "GET") {
				t.Errorf("%s %s Allow = %q, want GET", m, path, allow)
			}
		}
	}
	for _, path := range []string{"/", "/livez/", "/nope", "/status/x"} {
		a := do(t, client, "GET", base+path)
		if a.code != 404 || a.header.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s = %d Cache-Control %q, want 404 no-store", path, a.code, a.header.Get("Cache-Control"))
		}
	}
	// A query string does not change the route (kubelet probes may carry one).
	if a := do(t, client, "GET", base+"/livez?verbose=1"); a.code != 200 {
		t.Errorf("GET /livez?verbose=1 = %d, want 200", a.code)
	}
}

func TestHandlerWithoutListener(t *testing.T) {
	store := state.NewStore(state.Snapshot{Phase: state.Running, Ready: true, PID: 1})
	s := NewServer(store, nil, Options{})
	// Handler is usable on its own (embedding); the same no-store rule applies.
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: time.Second}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	defer srv.Close()
	a := do(t, &http.Client{Timeout: 10 * time.Second}, "GET", "http://"+l.Addr().String()+"/readyz")
	if a.code != 200 || a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("/readyz via Handler = %d %q", a.code, a.header.Get("Cache-Control"))
	}
}

func TestTimeoutDefaults(t *testing.T) {
	s := NewServer(state.NewStore(state.Snapshot{}), nil, Options{})
	got := []time.Duration{s.srv.ReadHeaderTimeout, s.srv.ReadTimeout, s.srv.WriteTimeout, s.srv.IdleTimeout}
	want := []time.Duration{2 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("timeouts = %v, want %v", got, want)
			break
		}
	}
	if s.srv.MaxHeaderBytes != 8<<10 {
		t.Errorf("MaxHeaderBytes = %d, want 8 KiB", s.srv.MaxHeaderBytes)
	}
	// A shorter ReadTimeout also shortens the header deadline.
	s = NewServer(state.NewStore(state.Snapshot{}), nil, Options{ReadTimeout: time.Second})
	if s.srv.ReadHeaderTimeout != time.Second {
		t.Errorf("ReadHeaderTimeout = %v with ReadTimeout 1s, want 1s", s.srv.ReadHeaderTimeout)
	}
}

// TestNoBackgroundWork: building the server and registry and answering
// requests leaves no goroutine behind (no tickers, no pollers), so a held
// holdfast that nobody probes costs nothing.
func TestNoBackgroundWork(t *testing.T) {
	before := runtime.NumGoroutine()
	store := goldenStore()
	s := NewServer(store, NewRegistry(store), Options{})
	for _, path := range []string{"/livez", "/readyz", "/status", "/metrics"} {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != 200 && rec.Code != 503 {
			t.Fatalf("%s = %d", path, rec.Code)
		}
	}
	// Gather's worker goroutines may still be returning; wait for them.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
