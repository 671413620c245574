package main

import (
	"context"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/holdfast-dev/holdfast/crashhold"
	"github.com/holdfast-dev/holdfast/internal/control"
	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/internal/subcmd"
)

// recordingBackend is fakeBackend that remembers the requests it got.
type recordingBackend struct {
	fakeBackend
	mu   sync.Mutex
	reqs []string
}

func (b *recordingBackend) Request(action string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reqs = append(b.reqs, action)
	return nil
}

func (b *recordingBackend) take() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.reqs
	b.reqs = nil
	return r
}

// serveBackend runs a real control server for b in a fresh state dir.
func serveBackend(t *testing.T, b control.Backend) string {
	t.Helper()
	dir := t.TempDir()
	l, err := control.Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := control.NewServer(b, slog.New(slog.DiscardHandler))
	go s.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return dir
}

// Every row of the subcommand table is reachable through run's parsing and
// dispatch, is listed by `holdfast help`, and, for an action, is accepted
// by the control server and reaches the supervisor; and the table lists
// exactly the subcommands of docs/contract.md "Invocation". A row missing
// from any of these fails here.
func TestSubcommandTable(t *testing.T) {
	// The table against the contract: a row dropped from the table fails.
	doc, err := os.ReadFile("../../docs/contract.md")
	if err != nil {
		t.Fatal(err)
	}
	var inContract []string
	for _, m := range regexp.MustCompile(`(?m)^holdfast ([a-z]+)\b`).FindAllStringSubmatch(string(doc), -1) {
		inContract = append(inContract, m[1])
	}
	if !slices.Equal(inContract, subcmd.Names()) {
		t.Errorf("docs/contract.md lists %q, the table %q", inContract, subcmd.Names())
	}

	help := captureStdout(t, func() {
		if code := run([]string{"help"}); code != cliOK {
			t.Errorf("help: exit %d", code)
		}
	})
	b := &recordingBackend{fakeBackend: fakeBackend{state.Snapshot{Phase: state.Held, Run: 1}}}
	dir := serveBackend(t, b)
	for _, c := range subcmd.All {
		if !strings.Contains(help, "  "+c.Synopsis+" ") && !strings.Contains(help, "  "+c.Synopsis+"\n") {
			t.Errorf("help lacks %q", c.Synopsis)
		}
		args := []string{"--state-dir", dir, c.Name}
		if len(c.Args) > 0 {
			args = append(args, c.Args[0])
		}
		want := cliOK
		if c.Name == "jcmd" {
			// It asks the held holdfast for the app's pid and finds none;
			// attaching to a real JVM is e2e's (TestJcmd*).
			args, want = append(args, "VM.version"), cliFail
		}
		var code int
		out := captureStdout(t, func() { code = run(args) })
		if code != want || (out == "" && c.Name != "probe" && c.Name != "jcmd") {
			t.Errorf("%q: exit %d, stdout %q; want %d and output", args, code, out, want)
		}
		got := b.take()
		switch {
		case c.Action && (!slices.Equal(got, []string{c.Name}) || out != c.Done+"\n"):
			t.Errorf("%q: the supervisor got %q and stdout is %q; want [%s] and %q", args, got, out, c.Name, c.Done)
		case !c.Action && len(got) > 0:
			t.Errorf("%q: not an action, but the supervisor got %q", args, got)
		}
		_, h := handlers[c.Name]
		if h == (!c.Client || c.Action) {
			t.Errorf("%s: has a handler %v; want one exactly for a client row that is no action", c.Name, h)
		}
	}
	for name := range handlers {
		if c, ok := subcmd.Lookup(name); !ok || !c.Client || c.Action {
			t.Errorf("handler %q has no client row that is no action in the table", name)
		}
	}
}

// The actions of the table are the requests the supervisor knows: backend
// passes an action's name on as a crashhold.RequestKind.
func TestActionsAreRequestKinds(t *testing.T) {
	var actions []crashhold.RequestKind
	for _, c := range subcmd.All {
		if c.Action {
			actions = append(actions, crashhold.RequestKind(c.Name))
		}
	}
	kinds := []crashhold.RequestKind{crashhold.ReqRestart, crashhold.ReqRelease, crashhold.ReqStop, crashhold.ReqHold}
	if !slices.Equal(actions, kinds) {
		t.Errorf("the table's actions are %q, the supervisor's requests %q", actions, kinds)
	}
}
