package kubelet

// The walkthrough: what the scenarios really saw (the kubelet's /pods lines, holdfast's
// own output from inside the pods), logged and, when HOLDFAST_WALKTHROUGH_OUT names a
// file, written there for docs/walkthrough.md.

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// walkthroughOrder is the order of the sections in the written file: the story, not the
// order in which concurrent scenarios happened to finish.
var walkthroughOrder = []string{"setup", "held", "why", "fixed", "plain", "memheld", "memplain"}

type walkthrough struct {
	mu       sync.Mutex
	sections map[string][]string
}

func newWalkthrough() *walkthrough { return &walkthrough{sections: make(map[string][]string)} }

// add records one step of scenario: what was done or read, and what came back.
func (w *walkthrough) add(scenario, what, output string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	step := "# " + what + "\n"
	if out := strings.TrimRight(output, "\n"); out != "" {
		step += out + "\n"
	}
	w.sections[scenario] = append(w.sections[scenario], step)
}

// exec runs argv in the container, records it, and fails the test if it fails.
func (w *walkthrough) exec(c *cluster, scenario, id string, argv ...string) string {
	c.t.Helper()
	out, err := c.exec(id, argv...)
	cmd := "$ crictl exec " + shortID(id) + " " + strings.Join(argv, " ")
	w.add(scenario, cmd, out)
	if err != nil {
		c.t.Errorf("%s: %v", cmd, err)
	}
	return out
}

func shortID(id string) string {
	if len(id) > 13 {
		return id[:13]
	}
	return id
}

// write logs the walkthrough and writes it to $HOLDFAST_WALKTHROUGH_OUT if set.
func (w *walkthrough) write(t testing.TB) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "holdfast under a real kubelet (e2e/kubelet), %s\n", time.Now().UTC().Format(time.RFC3339))
	for _, s := range walkthroughOrder {
		if len(w.sections[s]) == 0 {
			continue
		}
		title := "pod " + s
		if s == "setup" {
			title = s
		}
		fmt.Fprintf(&b, "\n## %s\n\n%s", title, strings.Join(w.sections[s], "\n"))
	}
	t.Logf("walkthrough:\n%s", b.String())
	if out := os.Getenv("HOLDFAST_WALKTHROUGH_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			t.Errorf("cannot write the walkthrough to %s: %v", out, err)
		}
	}
}
