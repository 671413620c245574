package crashhold

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"syscall"
	"testing"

	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/launcher"
)

// Forwarded books what the launcher forwarded on its own: a signal sent is
// counted under the name it was sent as (after --signal-map); one with no
// app process to go to, or that kill(2) refused, is logged and not counted.
func TestForwardedBooks(t *testing.T) {
	store := state.NewStore(state.Snapshot{Phase: state.Held})
	var logs bytes.Buffer
	book := Forwarded(store, slog.New(slog.NewTextHandler(&logs, nil)))

	book(launcher.Forwarded{Received: syscall.SIGUSR1, Sent: syscall.SIGUSR2, Pid: 42})
	book(launcher.Forwarded{Received: syscall.SIGHUP, Sent: syscall.SIGHUP})
	book(launcher.Forwarded{Received: syscall.SIGWINCH, Sent: syscall.SIGWINCH, Pid: 42, Err: errors.New("EPERM")})

	got := store.Load().Counters.SignalsForwarded
	if len(got) != 1 || got["SIGUSR2"] != 1 {
		t.Errorf("counted %v, want only SIGUSR2 once", got)
	}
	out := logs.String()
	for _, want := range []string{
		`msg="no app process to forward the signal to" component=supervisor signal=SIGHUP phase=held`,
		`msg="cannot forward signal" component=supervisor err=EPERM`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\n"); n != 2 {
		t.Errorf("%d log lines, want 2 (a signal sent logs nothing):\n%s", n, out)
	}
}
