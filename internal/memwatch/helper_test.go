package memwatch

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The test binary doubles as the processes the real tests need: a memory
// hog, a sampler to SIGKILL, and idle samplers whose cost is measured. The
// mode is chosen by helperEnv.
const helperEnv = "HOLDFAST_MEMWATCH_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "grow":
		helperGrow()
	case "sample":
		helperSample()
	case "cost":
		helperCost()
	case "find":
		cg, err := Find()
		if err != nil {
			fmt.Println("error", err)
			return
		}
		r, err := cg.Read()
		fmt.Println("found", cg.Version, cg.Dir, r.Limit, err)
	default:
		fmt.Fprintln(os.Stderr, "unknown helper mode")
		os.Exit(2)
	}
	os.Exit(0)
}

var keep [][]byte

// alloc allocates and touches n bytes, kept alive in keep.
func alloc(n int) {
	b := make([]byte, n)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	keep = append(keep, b)
}

// helperGrow waits for a line on stdin, grows in 256 KiB steps until its
// cgroup (HOLDFAST_CGROUP, v1) uses HOLDFAST_PLATEAU_PERCENT of its limit,
// says "plateau", waits for another line and then grows until killed.
// Steps are small so that the plateau is reached, not overshot, also under
// the race detector, whose shadow memory grows with the heap.
func helperGrow() {
	in := bufio.NewReader(os.Stdin)
	in.ReadString('\n')
	var pct float64
	fmt.Sscan(os.Getenv("HOLDFAST_PLATEAU_PERCENT"), &pct)
	cg := Cgroup{Version: V1, Dir: os.Getenv("HOLDFAST_CGROUP")}
	for {
		usage, limit, err := cg.Usage()
		if err != nil {
			fmt.Println("error", err)
			return
		}
		if float64(usage) >= pct/100*float64(limit) {
			break
		}
		alloc(256 << 10)
	}
	fmt.Println("plateau")
	in.ReadString('\n')
	for {
		alloc(1 << 20)
	}
}

// helperSample samples its own cgroup and itself into HOLDFAST_TIMELINE as
// fast as a 1 ms ticker lets it, says "ready" after 50 samples and goes on
// until killed.
func helperSample() {
	cg, err := Find()
	if err != nil {
		fmt.Println("error", err)
		return
	}
	s, err := NewSampler(Config{
		Cgroup:   cg,
		PID:      os.Getpid(),
		Timeline: os.Getenv("HOLDFAST_TIMELINE"),
		Layout:   Layout{FineSlots: 100, CoarseSlots: 10, CoarseEvery: 10},
	})
	if err != nil {
		fmt.Println("error", err)
		return
	}
	said := false
	for {
		if _, err := s.Sample(time.Now()); err != nil {
			fmt.Println("error", err)
			return
		}
		if !said && s.Summary().Samples >= 50 {
			fmt.Println("ready")
			said = true
		}
		time.Sleep(time.Millisecond)
	}
}

// helperCost runs, by HOLDFAST_SAMPLING: "1" the Sampler's Run once a
// second (sampling its own cgroup and its parent), "ticker" a bare
// one-second ticker, anything else nothing (blocked reading stdin). It says
// "ready" once running and goes on until killed.
func helperCost() {
	switch os.Getenv("HOLDFAST_SAMPLING") {
	case "1":
	case "ticker":
		fmt.Println("ready")
		for range time.NewTicker(time.Second).C {
		}
	default:
		fmt.Println("ready")
		io.Copy(io.Discard, os.Stdin)
		return
	}
	cg, err := Find()
	if err != nil {
		fmt.Println("error", err)
		return
	}
	var slow time.Duration
	if os.Getenv("HOLDFAST_SLOW") == "1" {
		slow = 5 * time.Second // the own cgroup here has no limit: always slow
	}
	s, err := NewSampler(Config{Cgroup: cg, PID: os.Getppid(), Timeline: os.Getenv("HOLDFAST_TIMELINE"), SlowInterval: slow})
	if err != nil {
		fmt.Println("error", err)
		return
	}
	fmt.Println("ready")
	s.Run(context.Background(), time.Second, nil)
}

// helper is a started helper process.
type helper struct {
	cmd   *exec.Cmd
	stdin *os.File
	lines chan string
}

func startHelper(t *testing.T, mode string, env ...string) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{helperEnv + "=" + mode}, env...)...)
	cmd.Stderr = os.Stderr
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdin = inR
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inR.Close()
	h := &helper{cmd: cmd, stdin: inW, lines: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
		close(h.lines)
	}()
	t.Cleanup(func() {
		inW.Close()
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return h
}

// expect waits (bounded) for the helper to print want.
func (h *helper) expect(t *testing.T, want string, within time.Duration) {
	t.Helper()
	timeout := time.After(within)
	for {
		select {
		case l, ok := <-h.lines:
			if !ok {
				t.Fatalf("helper exited before printing %q", want)
			}
			if l == want {
				return
			}
			if strings.HasPrefix(l, "error") {
				t.Fatalf("helper: %s", l)
			}
		case <-timeout:
			t.Fatalf("helper did not print %q within %v", want, within)
		}
	}
}

func tempPath(t *testing.T, name string) string {
	return filepath.Join(t.TempDir(), name)
}
