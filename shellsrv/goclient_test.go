package shellsrv

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// goClient logs in with x/crypto's client, which can send what OpenSSH's
// never does: a resize before the shell request, explicit terminal modes,
// signal requests.
func goClient(t *testing.T, h *harness) *gossh.Client {
	t.Helper()
	keyPEM, err := os.ReadFile(h.key)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.ParsePrivateKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	client, err := gossh.Dial("tcp", "127.0.0.1:"+h.port, &gossh.ClientConfig{
		User: "root", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

// TestExitSignalGoClient checks the wire messages with x/crypto's client,
// which reports both the signal and the status.
func TestExitSignalGoClient(t *testing.T) {
	h := newHarness(t, nil)
	client := goClient(t, h)
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sess.Stdout = &out
	err = sess.Run("echo before; kill -SEGV $$")
	var ee *gossh.ExitError
	if !errors.As(err, &ee) || ee.Signal() != "SEGV" || ee.ExitStatus() != 139 {
		t.Fatalf("want ExitError SEGV/139, got %v", err)
	}
	if out.String() != "before\n" {
		t.Fatalf("output before the signal: %q", out.String())
	}
	// Agent forwarding is refused.
	sess2, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess2.Close()
	if ok, err := sess2.SendRequest("auth-agent-req@openssh.com", true, nil); ok || err != nil {
		t.Fatalf("agent forwarding request: ok=%v err=%v, want refused", ok, err)
	}
}

func TestGoClientRequests(t *testing.T) {
	h := newHarness(t, nil)
	client := goClient(t, h)
	runPty := func(modes gossh.TerminalModes, resize bool, command string) string {
		t.Helper()
		sess, err := client.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		defer sess.Close()
		if err := sess.RequestPty("xterm", 24, 80, modes); err != nil {
			t.Fatal(err)
		}
		if resize {
			// Before the exec request: this used to block gliderlabs'
			// request loop for ever (shellhub-io/shellhub#6837).
			for range 3 {
				if err := sess.WindowChange(50, 132); err != nil {
					t.Fatal(err)
				}
			}
		}
		done := make(chan []byte, 1)
		go func() {
			out, _ := sess.CombinedOutput(command)
			done <- out
		}()
		select {
		case out := <-done:
			return string(out)
		case <-time.After(20 * time.Second):
			t.Fatalf("%q did not finish", command)
			return ""
		}
	}
	if got := strings.TrimSpace(runPty(nil, true, "stty size")); got != "50 132" {
		t.Errorf("resize before exec: stty size %q, want 50 132", got)
	}
	if got := strings.TrimSpace(runPty(nil, false, "stty size")); got != "24 80" {
		t.Errorf("pty-req size: stty size %q, want 24 80", got)
	}
	// Terminal modes from pty-req reach the terminal (negative control:
	// the opposite setting).
	if got := runPty(gossh.TerminalModes{gossh.ECHO: 0, gossh.VINTR: 7}, false, "stty -a"); !strings.Contains(got, " -echo ") || !strings.Contains(got, "intr = ^G") {
		t.Errorf("modes ECHO=0 VINTR=^G not applied:\n%s", got)
	}
	if got := runPty(gossh.TerminalModes{gossh.ECHO: 1}, false, "stty -a"); !strings.Contains(got, " echo ") || !strings.Contains(got, "intr = ^C") {
		t.Errorf("modes ECHO=1 not applied:\n%s", got)
	}

	// A signal request reaches the command's process group.
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	stdout, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Start("echo ready; sleep 100"); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(stdout, make([]byte, len("ready\n"))); err != nil {
		t.Fatal(err)
	}
	if err := sess.Signal(gossh.SIGTERM); err != nil {
		t.Fatal(err)
	}
	var ee *gossh.ExitError
	if err := sess.Wait(); !errors.As(err, &ee) || ee.Signal() != "TERM" || ee.ExitStatus() != 143 {
		t.Fatalf("after a TERM signal request: %v", err)
	}
}
