package hfrun

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Status is the status JSON (docs/contract.md "Status JSON").
type Status struct {
	Phase            string     `json:"phase"`
	Ready            bool       `json:"ready"`
	PID              *int       `json:"pid"`
	Run              int        `json:"run"`
	Restarts         int        `json:"restarts"`
	BudgetUsed       int        `json:"budget_used"`
	MaxRestarts      int        `json:"max_restarts"`
	StartedAt        *time.Time `json:"started_at"`
	InHoldWindow     bool       `json:"in_hold_window"`
	HeldSince        *time.Time `json:"held_since"`
	HoldReason       *string    `json:"hold_reason"`
	HoldExpiresAt    *time.Time `json:"hold_expires_at"`
	LastExit         *Exit      `json:"last_exit"`
	EvidenceDir      *string    `json:"evidence_dir"`
	StateDirWritable bool       `json:"state_dir_writable"`
	NotReadyReason   string     `json:"not_ready_reason"`
	ReadyRule        string     `json:"ready_rule"`
	LastReadiness    *Readiness `json:"last_readiness"`
	StartupDeadline  *time.Time `json:"startup_deadline"`
	HoldfastPID      int        `json:"holdfast_pid"`
	Version          string     `json:"version"`
}

// Readiness is the status JSON's last_readiness.
type Readiness struct {
	At     time.Time `json:"at"`
	OK     bool      `json:"ok"`
	Detail string    `json:"detail"`
}

// Exit is the status JSON's last_exit.
type Exit struct {
	Code          int       `json:"code"`
	Signal        string    `json:"signal"`
	CoreDumped    bool      `json:"core_dumped"`
	At            time.Time `json:"at"`
	RanForSeconds float64   `json:"ran_for_seconds"`
	Run           int       `json:"run"`
}

// StatusKeys are the keys docs/contract.md promises in the status JSON (null when absent).
var StatusKeys = []string{"phase", "ready", "pid", "run", "restarts", "started_at", "in_hold_window",
	"held_since", "hold_reason", "hold_expires_at", "last_exit", "evidence_dir", "version",
	"budget_used", "max_restarts", "state_dir_writable"}

// Reason is hold_reason, "<null>" when absent.
func (s Status) Reason() string {
	if s.HoldReason == nil {
		return "<null>"
	}
	return *s.HoldReason
}

// DecodeStatus parses a status JSON and checks that every contract key is there.
func DecodeStatus(b []byte) (Status, error) {
	var st Status
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("cannot parse status %q: %w", b, err)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return st, fmt.Errorf("cannot parse status %q: %w", b, err)
	}
	for _, k := range StatusKeys {
		if _, ok := keys[k]; !ok {
			return st, fmt.Errorf("status has no %q key: %s", k, b)
		}
	}
	return st, nil
}

// Get does one GET (no keep-alive, no redirects followed) bounded by timeout.
func Get(url string, timeout time.Duration) (int, string, error) {
	c := &http.Client{
		Timeout:       timeout,
		Transport:     &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b), err
}

// Fetch is one GET whose answer a test asserts on. Only a transport error (the
// listener not yet accepting, a JVM too busy to answer within the per-try timeout on a
// loaded box) is retried, within WaitLong; any HTTP answer is returned as it is.
func Fetch(url string) (int, string, error) {
	deadline := time.Now().Add(WaitLong)
	for {
		code, body, err := Get(url, 10*time.Second)
		if err == nil || time.Now().After(deadline) {
			return code, body, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// statusClient keeps its connections: the watchers poll every 20 ms, and a fresh
// connection each time would only add load to a busy box.
var statusClient = &http.Client{Timeout: 5 * time.Second}

// HTTPStatus reads /status.
func HTTPStatus(base string) (Status, error) {
	resp, err := statusClient.Get(base + "/status")
	if err != nil {
		return Status{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return Status{}, fmt.Errorf("cannot read /status: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return Status{}, fmt.Errorf("GET /status: %d %s", resp.StatusCode, body)
	}
	return DecodeStatus(body)
}

// Metric returns the value of an unlabelled metric in a Prometheus text exposition,
// or -1 when it is absent.
func Metric(body, name string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}
