package shellsrv

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeRandom(t *testing.T, path string, size int) [32]byte {
	t.Helper()
	data := make([]byte, size)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

func sumFile(t *testing.T, path string) [32]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("cannot read fetched file: %v", err)
	}
	return sha256.Sum256(data)
}

func TestSFTPAndSCP(t *testing.T) {
	h := newHarness(t, nil)
	remote := filepath.Join(h.dir, "java_pid13.hprof")
	want := writeRandom(t, remote, 3<<20+12345)
	local := t.TempDir()
	opts := h.sshArgs(h.key)
	opts = opts[:len(opts)-2] // scp and sftp spell the port -P

	batch := filepath.Join(local, "batch")
	os.WriteFile(batch, []byte("get "+remote+" "+filepath.Join(local, "via-sftp")+"\n"), 0o600)
	if r := run(t, "", nil, "sftp", append(opts, "-P", h.port, "-b", batch, "127.0.0.1")...); r.rc != 0 {
		t.Fatalf("sftp -b: %v", r)
	}
	if sumFile(t, filepath.Join(local, "via-sftp")) != want {
		t.Fatal("sftp: fetched file differs")
	}
	// OpenSSH 9's scp speaks sftp; it exits 1 if the exit status is lost.
	if r := run(t, "", nil, "scp", append(opts, "-P", h.port, "127.0.0.1:"+remote, filepath.Join(local, "via-scp"))...); r.rc != 0 {
		t.Fatalf("scp: %v", r)
	}
	if sumFile(t, filepath.Join(local, "via-scp")) != want {
		t.Fatal("scp: fetched file differs")
	}
	// Legacy scp -O runs `scp -f` remotely: it needs an scp binary on the
	// app's PATH, which this machine has (a slim image may not).
	if r := run(t, "", nil, "scp", append(opts, "-O", "-P", h.port, "127.0.0.1:"+remote, filepath.Join(local, "via-scp-O"))...); r.rc != 0 {
		t.Fatalf("scp -O: %v", r)
	}
	if sumFile(t, filepath.Join(local, "via-scp-O")) != want {
		t.Fatal("scp -O: fetched file differs")
	}
	// Upload too, and ssh -s reports the subsystem's exit status 0.
	if r := run(t, "", nil, "scp", append(opts, "-P", h.port, filepath.Join(local, "via-scp"), "127.0.0.1:"+remote+".up")...); r.rc != 0 {
		t.Fatalf("scp upload: %v", r)
	}
	if sumFile(t, remote+".up") != want {
		t.Fatal("scp upload: stored file differs")
	}
	// Negative control: a missing file fails.
	if r := run(t, "", nil, "scp", append(opts, "-P", h.port, "127.0.0.1:"+remote+".missing", local)...); r.rc == 0 {
		t.Fatalf("scp of a missing file succeeded: %v", r)
	}
}

// echoServer answers each line with the same line, on loopback.
func echoServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return l.Addr().String()
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

func TestLocalForwarding(t *testing.T) {
	h := newHarness(t, nil)
	_, echoPort, _ := net.SplitHostPort(echoServer(t))

	for _, dest := range []string{"127.0.0.1", "localhost"} {
		lport := freePort(t)
		c := startCmd(t, "", nil, "ssh", logLevel(h.sshArgs(h.key, "-N", "-L", lport+":"+dest+":"+echoPort, "127.0.0.1"), "INFO")...)
		var reply string
		waitFor(t, 20*time.Second, "an echo through ssh -L to "+dest, func() bool {
			conn, err := net.DialTimeout("tcp", "127.0.0.1:"+lport, time.Second)
			if err != nil {
				return false
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := conn.Write([]byte("ping\n")); err != nil {
				return false
			}
			reply, _ = bufio.NewReader(conn).ReadString('\n')
			return true
		})
		if reply != "ping\n" {
			t.Fatalf("-L to %s: echo returned %q; ssh stderr: %s", dest, reply, c.readStderr())
		}
	}

	// A non-loopback destination is refused before any dial: the answer is
	// "administratively prohibited" at once, not a connect timeout.
	lport := freePort(t)
	c := startCmd(t, "", nil, "ssh", logLevel(h.sshArgs(h.key, "-N", "-L", lport+":10.255.255.1:80", "127.0.0.1"), "INFO")...)
	var conn net.Conn
	waitFor(t, 20*time.Second, "the -L listener", func() bool {
		var err error
		conn, err = net.DialTimeout("tcp", "127.0.0.1:"+lport, time.Second)
		return err == nil
	})
	start := time.Now()
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	n, err := conn.Read(make([]byte, 1))
	conn.Close()
	if n != 0 || err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("forward to 10.255.255.1: read %d, %v after %v", n, err, time.Since(start))
	}
	waitFor(t, 10*time.Second, "the refusal in ssh's stderr", func() bool {
		return strings.Contains(c.readStderr(), "administratively prohibited")
	})

	// Remote forwarding (-R) is refused.
	r := run(t, "", nil, "ssh", logLevel(h.sshArgs(h.key, "-o", "ExitOnForwardFailure=yes", "-R", "0:127.0.0.1:"+echoPort, "127.0.0.1", "echo should-not-run"), "INFO")...)
	if r.rc != 255 || strings.Contains(r.stdout, "should-not-run") || !strings.Contains(r.stderr, "remote port forwarding failed") {
		t.Fatalf("-R: want refused, got %v", r)
	}
}

func TestLoopbackHosts(t *testing.T) {
	for dest, want := range map[string]bool{
		"127.0.0.1": true, "127.9.8.7": true, "::1": true, "[::1]": true, "localhost": true, "LOCALHOST.": true,
		"::ffff:127.0.0.1": true,
		"10.255.255.1":     false, "0.0.0.0": false, "::": false, "example.com": false, "localhost.example.com": false,
		"169.254.169.254": false, "": false, "127.0.0.1.nip.io": false,
	} {
		if _, got := loopbackHosts(dest); got != want {
			t.Errorf("loopbackHosts(%q) = %v, want %v", dest, got, want)
		}
	}
}
