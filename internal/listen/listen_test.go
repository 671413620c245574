package listen

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the processes the tests look at; helperEnv
// picks the role.
const helperEnv = "HOLDFAST_LISTEN_HELPER"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "listen-after":
		// Listen once a line arrives on stdin.
		bufio.NewReader(os.Stdin).ReadString('\n')
		helperListen()
	case "listen-now":
		helperListen()
	case "parent":
		// Start a listening child and wait for it; hold no socket.
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"=listen-now")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Println("error", err)
		}
	case "probe":
		pid, _ := strconv.Atoi(os.Getenv("HOLDFAST_ADDR"))
		ls, err := Listening(pid)
		if err != nil {
			fmt.Println("error", err)
		} else {
			fmt.Println("ok", len(ls))
		}
	case "connect":
		c, err := net.Dial("tcp", os.Getenv("HOLDFAST_ADDR"))
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		defer c.Close()
		fmt.Println("connected", os.Getpid())
		io.Copy(io.Discard, os.Stdin)
	}
	os.Exit(0)
}

func helperListen() {
	l, err := net.Listen("tcp", os.Getenv("HOLDFAST_ADDR"))
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	defer l.Close()
	fmt.Println("listening", os.Getpid(), l.Addr().(*net.TCPAddr).AddrPort())
	io.Copy(io.Discard, os.Stdin) // until the test closes stdin
}

type helper struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
}

func startHelper(t *testing.T, mode, addr string) *helper {
	t.Helper()
	return startHelperCmd(t, os.Args[0], -1, mode, addr)
}

// startHelperCmd starts bin as a helper, as user uid (and its group) unless
// uid is -1.
func startHelperCmd(t *testing.T, bin string, uid int, mode, addr string) *helper {
	t.Helper()
	cmd := exec.Command(bin, "-test.run=^$")
	if uid >= 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	}
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, "HOLDFAST_ADDR="+addr)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &helper{cmd: cmd, stdin: in, lines: make(chan string, 8)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
		close(h.lines)
	}()
	t.Cleanup(func() {
		in.Close() // ends every helper of the tree
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	return h
}

// line waits (bounded) for the helper's next line starting with prefix and
// returns its fields.
func (h *helper) line(t *testing.T, prefix string) []string {
	t.Helper()
	select {
	case l, ok := <-h.lines:
		if !ok {
			t.Fatalf("helper exited before %q", prefix)
		}
		if !strings.HasPrefix(l, prefix) {
			t.Fatalf("helper said %q, want %q", l, prefix)
		}
		return strings.Fields(l)
	case <-time.After(60 * time.Second):
		t.Fatalf("helper did not say %q", prefix)
	}
	return nil
}

func mustListening(t *testing.T, pid int) []Listener {
	t.Helper()
	ls, err := Listening(pid)
	if err != nil {
		t.Fatal(err)
	}
	return ls
}

func TestChildStartsListening(t *testing.T) {
	h := startHelper(t, "listen-after", "127.0.0.1:0")
	pid := h.cmd.Process.Pid
	if ls := mustListening(t, pid); len(ls) != 0 {
		t.Fatalf("before listening: %v", ls)
	}
	fmt.Fprintln(h.stdin, "now")
	f := h.line(t, "listening")
	want := netip.MustParseAddrPort(f[2])
	ls := mustListening(t, pid)
	if len(ls) != 1 || ls[0].Addr != want || ls[0].PID != pid {
		t.Fatalf("got %v, want %v held by %d", ls, want, pid)
	}
}

func TestGrandchildListens(t *testing.T) {
	h := startHelper(t, "parent", "127.0.0.1:0")
	f := h.line(t, "listening")
	grandchild, _ := strconv.Atoi(f[1])
	want := netip.MustParseAddrPort(f[2])
	ls := mustListening(t, h.cmd.Process.Pid)
	if len(ls) != 1 || ls[0].Addr != want || ls[0].PID != grandchild {
		t.Fatalf("got %v, want %v held by %d", ls, want, grandchild)
	}
	tree, _ := Tree(h.cmd.Process.Pid)
	if len(tree) != 2 || tree[1] != grandchild {
		t.Fatalf("tree %v", tree)
	}
}

// A process with only an established connection is not listening, even
// though the other end (this test) listens on the port it is connected to.
func TestEstablishedOnlyIsNotListening(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	h := startHelper(t, "connect", l.Addr().String())
	h.line(t, "connected")
	pid := h.cmd.Process.Pid
	inodes, err := socketInodes(pid)
	if err != nil || len(inodes) == 0 {
		t.Fatalf("the helper holds no socket (%v): the negative would prove nothing", err)
	}
	if ls := mustListening(t, pid); len(ls) != 0 {
		t.Fatalf("established only, got %v", ls)
	}
	// Positive control on the same machinery: this process listens.
	own := mustListening(t, os.Getpid())
	found := false
	for _, x := range own {
		found = found || x.Addr.String() == l.Addr().String()
	}
	if !found {
		t.Fatalf("own listener %v not in %v", l.Addr(), own)
	}
}

func TestIPv6Listener(t *testing.T) {
	probe, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	probe.Close()
	h := startHelper(t, "listen-after", "[::1]:0")
	fmt.Fprintln(h.stdin, "now")
	f := h.line(t, "listening")
	want := netip.MustParseAddrPort(f[2])
	ls := mustListening(t, h.cmd.Process.Pid)
	if len(ls) != 1 || ls[0].Addr != want {
		t.Fatalf("got %v, want %v", ls, want)
	}
}

func TestListeningNoProcess(t *testing.T) {
	cmd := exec.Command("true")
	cmd.Run()
	if _, err := Listening(cmd.Process.Pid); err == nil {
		t.Fatal("want an error for a process that is gone")
	}
}

// Another user's process cannot be looked into: the answer is an error,
// not "not listening".
func TestListeningNotPermitted(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run helpers as other users")
	}
	// The test binary where other users may run it.
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755) // the test's own temp dir
	os.Chmod(dir, 0o755)
	bin := dir + "/listen.test"
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	target := startHelperCmd(t, bin, 65534, "listen-now", "127.0.0.1:0")
	target.line(t, "listening")
	pid := target.cmd.Process.Pid
	// Positive control: root sees the listener.
	if ls := mustListening(t, pid); len(ls) != 1 {
		t.Fatalf("as root: %v", ls)
	}
	probe := startHelperCmd(t, bin, 65533, "probe", strconv.Itoa(pid))
	f := probe.line(t, "")
	if f[0] != "error" || !strings.Contains(strings.Join(f, " "), "permission denied") {
		t.Fatalf("another user got %q, want a permission error", f)
	}
}

func TestParseTCP(t *testing.T) {
	const tcp4 = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:A1B2 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 4243 1 0000000000000000 20 4 30 10 -1
`
	socks, err := ParseTCP(strings.NewReader(tcp4))
	if err != nil || len(socks) != 2 {
		t.Fatalf("%v %v", socks, err)
	}
	if socks[0].Local != netip.MustParseAddrPort("127.0.0.1:8080") || socks[0].State != StateListen || socks[0].Inode != 4242 {
		t.Fatalf("%+v", socks[0])
	}
	if socks[1].Remote != netip.MustParseAddrPort("127.0.0.1:8080") || socks[1].State != 1 {
		t.Fatalf("%+v", socks[1])
	}
	const tcp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 99 1 0000000000000000 100 0 0 10 0
`
	socks, err = ParseTCP(strings.NewReader(tcp6))
	if err != nil || len(socks) != 1 || socks[0].Local != netip.MustParseAddrPort("[::1]:8080") {
		t.Fatalf("%v %v", socks, err)
	}
	if _, err := ParseTCP(strings.NewReader("header\n 0: zz:1 00000000:0000 0A a b c d e 1\n")); err == nil {
		t.Fatal("want an error for a malformed line")
	}
}

func TestParsePPID(t *testing.T) {
	ppid, err := ParsePPID([]byte("123 (a) b (c)) S 77 123 123 0 -1"))
	if err != nil || ppid != 77 {
		t.Fatalf("%d %v", ppid, err)
	}
	if _, err := ParsePPID([]byte("123 no parens")); err == nil {
		t.Fatal("want an error")
	}
}
