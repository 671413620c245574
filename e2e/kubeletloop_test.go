package e2e

// A kubelet in miniature: it probes a "container" (a process as PID 1 of its own pid
// namespace) the way kubelet's prober does and restarts it the way kubelet does, and
// counts the restarts. A held holdfast must never be restarted; plain java as PID 1
// with the same crashing app is a crash loop (the negative control).

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
)

// klProbe is kubelet's HTTP probe: GET with a timeout, success is 200-399, redirects
// not followed (pkg/probe/http/http.go).
func klProbe(url string, timeout time.Duration) (bool, string) {
	code, _, err := hfrun.Get(url, timeout)
	if err != nil {
		return false, err.Error()
	}
	return code >= 200 && code < 400, fmt.Sprintf("HTTP %d", code)
}

// klConfig is the probe and restart settings of the loop.
type klConfig struct {
	period, timeout time.Duration
	failures        int           // failureThreshold: consecutive failures that restart
	backoff, maxBo  time.Duration // restart backoff, doubling (kubelet: 10s to 300s)
	run             time.Duration // how long the loop watches
	// startBudget: failures of a container that has not answered once yet count
	// only after this long. Unscaled: kubelet's default period (10s) times the
	// failure threshold (3) is what a real container gets to open its port. The
	// scaled period would give it 3s, which a loaded CI machine can miss.
	startBudget time.Duration
}

// klLoop runs one container under a kubelet-like loop for cfg.run and returns the
// number of restarts and a log of events. A container is restarted when its liveness
// probe failed cfg.failures times in a row (killed: SIGKILL to its init, as after
// the grace period) or when it exited (restartPolicy: Always), after a backoff.
func klLoop(t *testing.T, cfg klConfig, url string, startCtr func() (*hf, error)) (int, []string) {
	t.Helper()
	var events []string
	began := time.Now()
	logf := func(format string, a ...any) {
		events = append(events, fmt.Sprintf("%6.2fs ", time.Since(began).Seconds())+fmt.Sprintf(format, a...))
	}
	start := func() (*hf, error) {
		h, err := startCtr()
		if err == nil {
			t.Cleanup(h.kill) // left running at the end, for the caller to inspect
		}
		return h, err
	}
	c, err := start()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(cfg.run)
	restarts, fails, backoff := 0, 0, cfg.backoff
	started, answered := time.Now(), false
	restart := func(why string) bool {
		restarts++
		c.kill()
		logf("restart %d: %s (container exit: %s); backoff %v", restarts, why, klExit(c), backoff)
		select {
		case <-time.After(backoff):
		case <-time.After(time.Until(deadline)):
			return false
		}
		backoff = min(2*backoff, cfg.maxBo)
		if c, err = start(); err != nil {
			t.Fatal(err)
		}
		fails, started, answered = 0, time.Now(), false
		return true
	}
	tick := time.NewTicker(cfg.period)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		select {
		case <-c.done:
			if !restart("container exited") {
				return restarts, events
			}
		case <-tick.C:
			ok, detail := klProbe(url, cfg.timeout)
			if ok {
				fails, answered = 0, true
				continue
			}
			if !answered && time.Since(started) < cfg.startBudget {
				logf("liveness probe failed before the first answer (within the start budget): %s", detail)
				continue
			}
			fails++
			logf("liveness probe failed (%d/%d): %s", fails, cfg.failures, detail)
			if fails >= cfg.failures && !restart("failed liveness probe, will be restarted") {
				return restarts, events
			}
		case <-time.After(time.Until(deadline)):
		}
	}
	return restarts, events
}

func klExit(h *hf) string {
	if !h.exited() {
		return "running"
	}
	code, err := h.code()
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("code %d", code)
}

// klKubelet is kubelet's probe semantics with the period (and so the backoff) scaled
// from 10s to 1s to save time.
var klKubelet = klConfig{
	period:   time.Second,
	timeout:  time.Second,
	failures: 3,
	backoff:  time.Second,
	maxBo:    30 * time.Second,
	run:      30 * time.Second,

	startBudget: 30 * time.Second,
}

func TestKubeletLoop(t *testing.T) {
	t.Parallel()
	jar := javaJar(t, "springfail")
	java := javaBin(t)

	t.Run("held-holdfast-never-restarted", func(t *testing.T) {
		t.Parallel()
		tmp := t.TempDir()
		addr := hfrun.Addr(t)
		var last *hf
		ctr := func() (*hf, error) {
			h, err := launch(spec{pid1: true, args: []string{"--hold=true", "--max-restarts=0",
				"--probe-addr=" + addr, "--", java, "-jar", jar}}, tmp)
			last = h
			return h, err
		}
		restarts, events := klLoop(t, klKubelet, "http://"+addr+"/livez", ctr)
		st, err := hfrun.HTTPStatus("http://" + addr)
		if restarts != 0 {
			t.Errorf("kubelet loop restarted a held holdfast %d times, want 0:\n%s", restarts, klJoin(events))
		}
		// Not vacuous: the app did crash and holdfast held it the whole time.
		if err != nil || st.Phase != "held" || st.Run != 1 || st.LastExit == nil || st.LastExit.Code != 1 {
			t.Errorf("after the loop: %+v (%v), want held after run 1 crashed with 1\n%s", st, err, last.output())
		}
	})

	t.Run("plain-java-crash-loops", func(t *testing.T) {
		t.Parallel()
		tmp := t.TempDir()
		// The app's own port: nothing ever listens there, since the app dies first.
		url := fmt.Sprintf("http://127.0.0.1:%d/actuator/health/liveness", hfrun.Port(t))
		ctr := func() (*hf, error) {
			return launch(spec{pid1: true, prog: []string{java, "-jar", jar}, dir: tmp}, tmp)
		}
		restarts, events := klLoop(t, klKubelet, url, ctr)
		if restarts < 3 {
			t.Errorf("kubelet loop restarted plain java %d times, want >= 3 (a crash loop):\n%s", restarts, klJoin(events))
		}
		t.Logf("plain java: %d restarts in %v:\n%s", restarts, klKubelet.run, klJoin(events))
	})
}

func klJoin(events []string) string { return strings.Join(events, "\n") }
