package shellsrv

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
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

// TestKexMLKEM: the server offers the post-quantum hybrid first, then
// curve25519, and nothing with SHA-1; a client that asks only for
// mlkem768x25519-sha256 logs in with it. OpenSSH 9.2's client lacks it
// (9.9 added it), so x/crypto's client asks. Negative control: a client
// asking only for a key exchange the server lacks is refused.
func TestKexMLKEM(t *testing.T) {
	h := newHarness(t, nil)
	kex := serverKexAlgos(t, "127.0.0.1:"+h.port)
	if !strings.HasPrefix(kex, "mlkem768x25519-sha256,curve25519-sha256,") || strings.Contains(kex, "sha1") {
		t.Fatalf("server's key exchanges: %s", kex)
	}
	keyPEM, err := os.ReadFile(h.key)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.ParsePrivateKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	dial := func(algo string) (*gossh.Client, error) {
		cfg := &gossh.ClientConfig{
			User: "root", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
			HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second,
		}
		cfg.KeyExchanges = []string{algo}
		return gossh.Dial("tcp", "127.0.0.1:"+h.port, cfg)
	}
	client, err := dial(gossh.KeyExchangeMLKEM768X25519)
	if err != nil {
		t.Fatalf("login with mlkem768x25519-sha256 only: %v", err)
	}
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.Output("echo pq")
	if err != nil || string(out) != "pq\n" {
		t.Fatalf("command over mlkem768x25519: %q %v", out, err)
	}
	if c, err := dial(gossh.InsecureKeyExchangeDH1SHA1); err == nil {
		c.Close()
		t.Fatal("a client asking only for diffie-hellman-group1-sha1 logged in")
	}
}

// serverKexAlgos reads the key exchange name-list of the server's
// KEXINIT, which is sent in the clear (RFC 4253 section 7.1).
func serverKexAlgos(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, "SSH-2.0-kextest\r\n"); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "SSH-2.0-") {
		t.Fatalf("server version line %q: %v", line, err)
	}
	var hdr [5]byte // packet_length, padding_length
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		t.Fatal(err)
	}
	pkt := make([]byte, binary.BigEndian.Uint32(hdr[:4])-1)
	if _, err := io.ReadFull(r, pkt); err != nil {
		t.Fatal(err)
	}
	if pkt[0] != 20 { // SSH_MSG_KEXINIT
		t.Fatalf("first packet type %d, want KEXINIT", pkt[0])
	}
	w := newWire(pkt[17:]) // type, cookie
	return w.string()
}
