package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/holdfast-dev/holdfast/bench/internal/stats"
)

// sample is stats.Sample, shared with the PID-1 benchmark.
type sample = stats.Sample

// runSSH runs ssh with args to completion and returns its wall time.
func runSSH(args []string) (time.Duration, error) {
	cmd := exec.Command("ssh", args...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	t0 := time.Now()
	err := cmd.Run()
	d := time.Since(t0)
	if err != nil {
		return d, fmt.Errorf("cannot run ssh %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return d, nil
}

// latency times `ssh host true` n times per server, alternating which server
// goes first, and returns milliseconds per server.
func latency(servers []*server, n int, opts ...string) ([]sample, error) {
	out := make([]sample, len(servers))
	for i := range n {
		for j := range servers {
			k := j
			if i%2 == 1 {
				k = len(servers) - 1 - j
			}
			args := servers[k].sshArgs(append(append([]string{}, opts...), "127.0.0.1", "true")...)
			d, err := runSSH(args)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", servers[k].name, err)
			}
			out[k] = append(out[k], float64(d)/float64(time.Millisecond))
		}
	}
	return out, nil
}

// negotiated reports the key exchange and cipher the client settled on
// (`ssh -v` prints them) with opts.
func negotiated(s *server, opts ...string) (kex, cipher string) {
	args := s.sshArgs(append(append([]string{"-v"}, opts...), "127.0.0.1", "true")...)
	out, _ := exec.Command("ssh", args...).CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(line, "debug1: kex: algorithm: "); ok {
			kex = strings.TrimSpace(rest)
		}
		if rest, ok := strings.CutPrefix(line, "debug1: kex: server->client cipher: "); ok {
			cipher = strings.Fields(rest)[0]
		}
	}
	return kex, cipher
}

// throughput streams n bytes of zeros from the server to the client with
// cipher and returns MiB/s over the client's wall time. The client writes
// straight to /dev/null, as `ssh host ... > /dev/null` would: a reader
// process of ours would be a fourth busy process on the box's cores. ssh
// exits with head's status, so 0 means all n bytes were written (a short
// write would end head with SIGPIPE or an error).
// throughput fetches file (n bytes) from s with cipher, by `ssh host cat
// FILE` (mode "ssh cat") or `sftp host:FILE /dev/null` (mode "sftp"), and
// returns MiB/s.
func throughput(s *server, mode, cipher, file string, n int64) (float64, error) {
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return 0, fmt.Errorf("cannot open %s: %w", os.DevNull, err)
	}
	defer null.Close()
	var cmd *exec.Cmd
	if mode == "sftp" {
		args := append(clientOpts(s.key), "-q", "-c", cipher, "-P", s.port, "127.0.0.1:"+file, os.DevNull)
		cmd = exec.Command("sftp", args...)
	} else {
		cmd = exec.Command("ssh", s.sshArgs("-c", cipher, "127.0.0.1", "cat "+file)...)
	}
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = null, &errb
	t0 := time.Now()
	err = cmd.Run()
	d := time.Since(t0)
	if err != nil {
		return 0, fmt.Errorf("%s, %s %s: %v %s", s.name, mode, cipher, err, strings.TrimSpace(errb.String()))
	}
	return float64(n) / (1 << 20) / d.Seconds(), nil
}

// goLogin logs in to s with x/crypto's client offering only kex, runs
// `true` and closes: the login of the OpenSSH rows, for a key exchange
// OpenSSH 9.2's client lacks.
func goLogin(s *server, kex string) (time.Duration, error) {
	pem, err := os.ReadFile(s.key)
	if err != nil {
		return 0, err
	}
	signer, err := gossh.ParsePrivateKey(pem)
	if err != nil {
		return 0, err
	}
	cfg := &gossh.ClientConfig{
		User: "root", Auth: []gossh.AuthMethod{gossh.PublicKeys(signer)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 20 * time.Second,
	}
	cfg.KeyExchanges = []string{kex}
	t0 := time.Now()
	c, err := gossh.Dial("tcp", "127.0.0.1:"+s.port, cfg)
	if err != nil {
		return 0, fmt.Errorf("%s, %s: %w", s.name, kex, err)
	}
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		return 0, fmt.Errorf("%s, %s: %w", s.name, kex, err)
	}
	if err := sess.Run("true"); err != nil {
		return 0, fmt.Errorf("%s, %s: %w", s.name, kex, err)
	}
	return time.Since(t0), nil
}

// goLatency times goLogin n times per server that supports kex, in
// alternating order; a server that refuses kex gets no samples.
func goLatency(servers []*server, n int, kex string) []sample {
	out := make([]sample, len(servers))
	ok := make([]bool, len(servers))
	for i, s := range servers {
		_, err := goLogin(s, kex)
		ok[i] = err == nil
	}
	for i := range n {
		for j := range servers {
			k := j
			if i%2 == 1 {
				k = len(servers) - 1 - j
			}
			if !ok[k] {
				continue
			}
			if d, err := goLogin(servers[k], kex); err == nil {
				out[k] = append(out[k], float64(d)/float64(time.Millisecond))
			}
		}
	}
	return out
}

// mem is the server processes' memory at one moment.
type mem struct {
	procs    int
	rss, pss int // kB
}

// idleSessions opens n sessions that each run `sleep` after printing a line,
// measures the server processes once all are open and have settled, then
// closes them and waits until the server is back to its idle process count.
func idleSessions(s *server, n int, settle time.Duration) (mem, error) {
	base := len(s.procs())
	var clients []*exec.Cmd
	closeAll := func() {
		for _, c := range clients {
			_ = c.Process.Signal(syscall.SIGTERM)
		}
		for _, c := range clients {
			_ = c.Wait()
		}
	}
	for i := range n {
		c := exec.Command("ssh", s.sshArgs("-T", "127.0.0.1", fmt.Sprintf("echo open-%d; exec sleep 3600", i))...)
		out, err := c.StdoutPipe()
		if err != nil {
			closeAll()
			return mem{}, err
		}
		if err := c.Start(); err != nil {
			closeAll()
			return mem{}, fmt.Errorf("cannot start ssh: %w", err)
		}
		clients = append(clients, c)
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || strings.TrimSpace(line) != fmt.Sprintf("open-%d", i) {
			closeAll()
			return mem{}, fmt.Errorf("%s: session %d did not open: %q %v", s.name, i, line, err)
		}
	}
	time.Sleep(settle) // let per-session allocations land before reading RSS
	pids := s.procs()
	rss, pss, err := memKB(pids)
	closeAll()
	if err != nil {
		return mem{}, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(s.procs()) > base && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	return mem{procs: len(pids), rss: rss, pss: pss}, nil
}

// idleMem measures the server processes with no session open.
func idleMem(s *server) (mem, error) {
	pids := s.procs()
	rss, pss, err := memKB(pids)
	return mem{procs: len(pids), rss: rss, pss: pss}, err
}

// burst starts n `ssh host true` at the same instant from one address and
// counts the ones that succeeded; the first error is returned for the notes.
func burst(s *server, n int) (ok int, firstErr error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	gate := make(chan struct{})
	var errs []error
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			_, err := runSSH(s.sshArgs("127.0.0.1", "true"))
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
			} else {
				errs = append(errs, err)
			}
		}()
	}
	close(gate)
	wg.Wait()
	if len(errs) > 0 {
		firstErr = errors.Join(errs[0])
	}
	return ok, firstErr
}
