package probes

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/internal/testutil"
)

// freePort picks a loopback port by listening and closing: Prometheus has no
// --web.listen-address=...:0.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startPrometheus runs a real Prometheus scraping target every second.
func startPrometheus(t *testing.T, target string) (api string, logs *testutil.Buffer) {
	t.Helper()
	bin := requireTool(t, "prometheus")
	dir := t.TempDir()
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: holdfast
    static_configs:
      - targets: [%q]
`, target)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	listen := freePort(t)
	logs = &testutil.Buffer{}
	cmd := exec.Command(bin,
		"--config.file="+cfgPath,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+listen,
		"--log.level=warn",
	)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("cannot start prometheus: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			t.Errorf("prometheus (pid %d) did not exit after SIGKILL", cmd.Process.Pid)
		}
	})
	return "http://" + listen, logs
}

// queryValue asks Prometheus for the instant value of query from one
// instance; "" when there is no sample yet.
func queryValue(client *http.Client, api, query, instance string) (string, error) {
	res, err := client.Get(api + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return "", err
	}
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return "", fmt.Errorf("cannot decode %q: %w", body, err)
	}
	if r.Status != "success" {
		return "", fmt.Errorf("query %s: %s", query, body)
	}
	for _, s := range r.Data.Result {
		if s.Metric["instance"] == instance && s.Metric["job"] == "holdfast" {
			v, _ := s.Value[1].(string)
			return v, nil
		}
	}
	return "", nil
}

// TestPrometheusScrapesHeld: a real Prometheus scrapes the probe server and
// holdfast_held follows what the store publishes, 1 then 0.
func TestPrometheusScrapesHeld(t *testing.T) {
	store := state.NewStore(state.Snapshot{Phase: state.Held, HoldReason: ptr(state.ReasonStartupCrash), HeldSince: &t0, Version: "v0.0.0-test"})
	_, l := startServer(t, NewServer(store, nil, Options{}))
	target := l.Addr().String()
	api, logs := startPrometheus(t, target)
	client := &http.Client{Timeout: 5 * time.Second}

	waitValue := func(want string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		var last string
		var lastErr error
		for time.Now().Before(deadline) {
			last, lastErr = queryValue(client, api, "holdfast_held", target)
			if lastErr == nil && last == want {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		targets, _ := client.Get(api + "/api/v1/targets")
		var tb []byte
		if targets != nil {
			tb, _ = io.ReadAll(targets.Body)
			targets.Body.Close()
		}
		t.Fatalf("holdfast_held never became %s within 60s (last %q, err %v)\ntargets: %s\nprometheus log:\n%s",
			want, last, lastErr, tb, logs.String())
	}

	waitValue("1")
	store.Publish(state.Snapshot{Phase: state.Starting, Run: 4, Version: "v0.0.0-test"})
	waitValue("0")

	// The phase series came through with their label, too.
	if v, err := queryValue(client, api, `holdfast_phase{phase="starting"}`, target); err != nil || v != "1" {
		t.Errorf(`holdfast_phase{phase="starting"} = %q, %v; want 1`, v, err)
	}
}
