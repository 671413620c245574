package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

type config struct {
	holdfast, work string
	holdfastEnv    string // KEY=VALUE added to holdfast's environment
	serverCPUs     string // taskset -c list for both servers, "" for none
	runs           int
	bytes          int64
	tputReps       int
	sessions       int
	burst          int
	settle         time.Duration
}

func main() { os.Exit(run()) }

func run() int {
	var c config
	flag.StringVar(&c.holdfast, "holdfast", "../bin/holdfast", "holdfast binary")
	flag.StringVar(&c.holdfastEnv, "holdfast-env", "", "`KEY=VALUE` added to holdfast's environment (e.g. GOMAXPROCS=1)")
	flag.StringVar(&c.serverCPUs, "server-cpus", "", "`LIST` of CPUs (taskset -c) both servers run on; run the benchmark itself under taskset on the others to keep the clients apart")
	flag.StringVar(&c.work, "work", "/var/tmp", "directory for the scratch dir (keys, sshd config, state dir)")
	flag.IntVar(&c.runs, "runs", 50, "`ssh host true` runs per server and key exchange")
	flag.Int64Var(&c.bytes, "bytes", 1<<30, "bytes per throughput run")
	flag.IntVar(&c.tputReps, "tput-reps", 3, "throughput runs per server and cipher")
	flag.IntVar(&c.sessions, "sessions", 10, "idle sessions for the memory row")
	flag.IntVar(&c.burst, "burst", 20, "simultaneous logins from one address")
	flag.DurationVar(&c.settle, "settle", time.Second, "wait after the last idle session opened, before reading memory")
	flag.Parse()

	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "bench-ssh: run as root (sshd needs it for privilege separation; holdfast runs in a new pid namespace)")
		return 2
	}
	for _, tool := range []string{"ssh", "sftp", "ssh-keygen", "unshare", sshdPath} {
		if _, err := exec.LookPath(tool); err != nil {
			fmt.Fprintf(os.Stderr, "bench-ssh: cannot find %s (scripts/deps.sh installs openssh-client/-server)\n", tool)
			return 2
		}
	}
	work, err := os.MkdirTemp(c.work, "holdfast-bench-ssh-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench-ssh: cannot create a work dir: %v\n", err)
		return 2
	}
	defer os.RemoveAll(work)
	if err := report(os.Stdout, c, work); err != nil {
		fmt.Fprintf(os.Stderr, "bench-ssh: %v\n", err)
		return 1
	}
	return 0
}

func progress(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench-ssh: "+format+"\n", a...)
}

// report starts both servers, runs every measurement and writes the section.
func report(w io.Writer, c config, work string) error {
	key := filepath.Join(work, "client")
	if err := keygen(key); err != nil {
		return err
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		return err
	}
	ak := filepath.Join(work, "authorized_keys")
	if err := os.WriteFile(ak, pub, 0o600); err != nil {
		return err
	}
	home := filepath.Join(work, "home")
	for _, d := range []string{"sshd", "holdfast", "home"} {
		if err := os.Mkdir(filepath.Join(work, d), 0o700); err != nil {
			return err
		}
	}
	sshd, err := startSSHD(c.serverCPUs, filepath.Join(work, "sshd"), home, key, ak)
	if err != nil {
		return err
	}
	defer sshd.stop()
	hf, err := startHoldfast(c.serverCPUs, c.holdfast, c.holdfastEnv, filepath.Join(work, "holdfast"), home, key, ak)
	if err != nil {
		return err
	}
	defer hf.stop()
	servers := []*server{hf, sshd}
	started, load0 := time.Now(), loadavg()

	// Memory first, while neither server has served anything but its
	// readiness check.
	progress("memory, idle and with %d sessions ...", c.sessions)
	var idle, busy [2]mem
	for i, s := range servers {
		if idle[i], err = idleMem(s); err != nil {
			return err
		}
		if busy[i], err = idleSessions(s, c.sessions, c.settle); err != nil {
			return err
		}
	}

	kexes := []struct {
		name string
		opts []string
	}{
		{"client default", nil},
		{"curve25519-sha256 on both", []string{"-o", "KexAlgorithms=curve25519-sha256"}},
	}
	type latRow struct {
		name      string
		kex       [2]string
		p50, p90  [2]float64
		min       [2]float64
		cpu       [2]float64 // server CPU ms per login
		cipherDef [2]string
	}
	var lat []latRow
	for _, k := range kexes {
		progress("latency, %s kex, %d runs each ...", k.name, c.runs)
		row := latRow{name: k.name}
		for i, s := range servers {
			row.kex[i], row.cipherDef[i] = negotiated(s, k.opts...)
		}
		before, err := cpuAll(servers)
		if err != nil {
			return err
		}
		samples, err := latency(servers, c.runs, k.opts...)
		if err != nil {
			return err
		}
		after, err := cpuAll(servers)
		if err != nil {
			return err
		}
		for i := range servers {
			row.cpu[i] = float64(after[i]-before[i]) / float64(time.Millisecond) / float64(c.runs)
		}
		for i := range servers {
			row.p50[i], row.p90[i], row.min[i] = samples[i].Median(), samples[i].Quantile(0.9), samples[i].Quantile(1.0/float64(len(samples[i])))
		}
		lat = append(lat, row)
	}

	// x/crypto's client, for the key exchange OpenSSH 9.2's lacks.
	goKexes := []string{"mlkem768x25519-sha256", "curve25519-sha256"}
	goLat := make([][]sample, len(goKexes))
	goCPU := make([][2]float64, len(goKexes))
	for ki, kex := range goKexes {
		progress("latency, x/crypto client, %s, %d runs each ...", kex, c.runs)
		before, err := cpuAll(servers)
		if err != nil {
			return err
		}
		goLat[ki] = goLatency(servers, c.runs, kex)
		after, err := cpuAll(servers)
		if err != nil {
			return err
		}
		for i := range servers {
			if n := len(goLat[ki][i]); n > 0 {
				goCPU[ki][i] = float64(after[i]-before[i]) / float64(time.Millisecond) / float64(n)
			}
		}
	}

	latLoad := loadavg()
	// One sparse file: both servers read zeros from the page cache, no disk.
	file := filepath.Join(work, "dump.hprof")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		return err
	}
	if err := os.Truncate(file, c.bytes); err != nil {
		return err
	}
	modes := []string{"ssh cat", "sftp"}
	ciphers := []string{"chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com"}
	type tputKey struct{ mode, cipher int }
	tput := map[tputKey]*[2]sample{}
	tputCPU := map[tputKey]*[2]time.Duration{}
	for rep := range c.tputReps {
		for mi, mode := range modes {
			for ci, cipher := range ciphers {
				k := tputKey{mi, ci}
				if tput[k] == nil {
					tput[k], tputCPU[k] = &[2]sample{}, &[2]time.Duration{}
				}
				for j := range servers {
					i := j
					if (rep+ci+mi)%2 == 1 {
						i = len(servers) - 1 - j
					}
					progress("throughput %d/%d, %s, %s, %s ...", rep+1, c.tputReps, mode, cipher, servers[i].name)
					servers[i].waitIdle()
					c0, err := servers[i].cpu()
					if err != nil {
						return err
					}
					v, err := throughput(servers[i], mode, cipher, file, c.bytes)
					if err != nil {
						return err
					}
					servers[i].waitIdle()
					c1, err := servers[i].cpu()
					if err != nil {
						return err
					}
					tput[k][i] = append(tput[k][i], v)
					tputCPU[k][i] += c1 - c0
				}
			}
		}
	}

	tputLoad := loadavg()
	progress("burst of %d logins ...", c.burst)
	var burstOK [2]int
	var burstErr [2]error
	for i, s := range servers {
		burstOK[i], burstErr[i] = burst(s, c.burst)
	}

	// The section.
	fmt.Fprintln(w, "## SSH")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "holdfast's embedded ssh server against OpenSSH's sshd, one run of %s, %s in all; load average %s at the start, %s at the end.\n\n",
		started.UTC().Format("2006-01-02 15:04 UTC"), time.Since(started).Round(time.Second), load0, loadavg())
	for _, l := range machine(c.holdfast) {
		fmt.Fprintf(w, "- %s\n", l)
	}
	fmt.Fprintf(w, "- Command: `scripts/bench-ssh.sh` (runs %d, bytes %d, tput-reps %d, sessions %d, burst %d)\n",
		c.runs, c.bytes, c.tputReps, c.sessions, c.burst)
	if c.holdfastEnv != "" {
		fmt.Fprintf(w, "- holdfast ran with `%s` added to its environment (`-holdfast-env`)\n", c.holdfastEnv)
	}
	if c.serverCPUs != "" {
		fmt.Fprintf(w, "- Both servers pinned to CPUs %s (`-server-cpus`)\n", c.serverCPUs)
	}
	fmt.Fprintln(w, "- Both on 127.0.0.1, same client and options (`-F /dev/null`, one ed25519 key, BatchMode), logged in as root, "+
		"bash with the same empty HOME (so no ~/.bashrc runs); "+
		"sshd with its own config (`UsePAM no`, `PrintMotd no`, `PrintLastLog no`, `SetEnv HOME=…`, otherwise Debian's defaults) via `sshd -D -e -f cfg`; "+
		"holdfast as PID 1 of a new pid namespace running `sleep infinity`. Ratios are holdfast / sshd.")
	fmt.Fprintln(w)

	fmt.Fprintln(w, "Server CPU is the server process's CPU time plus that of the children it reaped (proc(5) utime+stime+cutime+cstime): "+
		"sshd's listener with its per-connection processes, holdfast with its session shells; both include the shell and command each session ran. "+
		"It moves less with the box's load than wall times do.")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "`ssh 127.0.0.1 true` (connect, key exchange, auth, exec, exit), wall time of the client in ms, %d runs per row and server, interleaved (load average after: %s):\n\n", c.runs, latLoad)
	fmt.Fprintln(w, "| key exchange | holdfast median | p90 | min | sshd median | p90 | min | median ratio | server CPU per login, holdfast / sshd |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, r := range lat {
		name := r.name
		if r.kex[0] != r.kex[1] {
			name += fmt.Sprintf(" (holdfast: %s, sshd: %s)", orUnknown(r.kex[0]), orUnknown(r.kex[1]))
		} else {
			name += fmt.Sprintf(" (%s)", orUnknown(r.kex[0]))
		}
		fmt.Fprintf(w, "| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %s | %.1f / %.1f ms (%s) |\n", name,
			r.p50[0], r.p90[0], r.min[0], r.p50[1], r.p90[1], r.min[1], ratioStr(r.p50[0], r.p50[1]),
			r.cpu[0], r.cpu[1], ratioStr(r.cpu[0], r.cpu[1]))
	}
	fmt.Fprintln(w)

	fmt.Fprintf(w, "The same login with x/crypto's ssh client (golang.org/x/crypto/ssh, offering only the key exchange named; dial, key exchange, auth, `true`, close), "+
		"for `mlkem768x25519-sha256`, which OpenSSH has only from 9.9; ms, %d runs per row and server, interleaved:\n\n", c.runs)
	fmt.Fprintln(w, "| key exchange | holdfast median | p90 | min | sshd median | p90 | min | median ratio | server CPU per login, holdfast / sshd |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for ki, kex := range goKexes {
		h, sd := goLat[ki][0], goLat[ki][1]
		cell := func(x sample) string {
			if len(x) == 0 {
				return "refused | | "
			}
			return fmt.Sprintf("%.1f | %.1f | %.1f", x.Median(), x.Quantile(0.9), x.Quantile(1.0/float64(len(x))))
		}
		ratio, cpu := "n/a", fmt.Sprintf("%.1f / – ms", goCPU[ki][0])
		if len(h) > 0 && len(sd) > 0 {
			ratio = ratioStr(h.Median(), sd.Median())
			cpu = fmt.Sprintf("%.1f / %.1f ms (%s)", goCPU[ki][0], goCPU[ki][1], ratioStr(goCPU[ki][0], goCPU[ki][1]))
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", kex, cell(h), cell(sd), ratio, cpu)
	}
	fmt.Fprintln(w)

	fmt.Fprintf(w, "A %s file to the client (a heap dump: `ssh -c CIPHER host cat FILE > /dev/null` and `sftp -c CIPHER host:FILE /dev/null`; "+
		"a sparse file, so both servers read zeros from the page cache; sshd's sftp is `internal-sftp`, holdfast's its re-executed helper), "+
		"MiB/s, median of %d runs (min–max), interleaved (load average after: %s):\n\n", sizeStr(c.bytes), c.tputReps, tputLoad)
	fmt.Fprintln(w, "| transfer | cipher | holdfast | sshd | ratio | server CPU s per GiB, holdfast / sshd |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	gib := float64(c.bytes) * float64(c.tputReps) / (1 << 30)
	for mi, mode := range modes {
		for ci, cipher := range ciphers {
			k := tputKey{mi, ci}
			h, s := tput[k][0], tput[k][1]
			ch, cs := tputCPU[k][0].Seconds()/gib, tputCPU[k][1].Seconds()/gib
			fmt.Fprintf(w, "| %s | %s | %.0f (%.0f–%.0f) | %.0f (%.0f–%.0f) | %s | %.2f / %.2f (%s) |\n", mode, cipher,
				h.Median(), h.Quantile(1.0/float64(len(h))), h.Quantile(1), s.Median(), s.Quantile(1.0/float64(len(s))), s.Quantile(1),
				ratioStr(h.Median(), s.Median()), ch, cs, ratioStr(ch, cs))
		}
	}
	fmt.Fprintln(w)

	fmt.Fprintf(w, "Memory of the server processes (holdfast: its one process; sshd: the listener and its per-connection sshd children; "+
		"never the sessions' shells or commands), idle and with %d idle exec sessions open (`ssh -T host 'exec sleep 3600'`), read %s after the last one opened:\n\n", c.sessions, c.settle)
	fmt.Fprintln(w, "| | holdfast | sshd | ratio |")
	fmt.Fprintln(w, "|---|---|---|---|")
	memRow := func(label string, h, s mem) {
		fmt.Fprintf(w, "| %s, processes | %d | %d | |\n", label, h.procs, s.procs)
		fmt.Fprintf(w, "| %s, RSS sum | %s | %s | %s |\n", label, mib(h.rss), mib(s.rss), ratioStr(float64(h.rss), float64(s.rss)))
		fmt.Fprintf(w, "| %s, PSS sum | %s | %s | %s |\n", label, mib(h.pss), mib(s.pss), ratioStr(float64(h.pss), float64(s.pss)))
	}
	memRow("idle", idle[0], idle[1])
	memRow(fmt.Sprintf("%d sessions", c.sessions), busy[0], busy[1])
	perH, perS := float64(busy[0].rss-idle[0].rss)/float64(c.sessions), float64(busy[1].rss-idle[1].rss)/float64(c.sessions)
	fmt.Fprintf(w, "| RSS per extra session | %s | %s | %s |\n", mib(int(perH)), mib(int(perS)), ratioStr(perH, perS))
	fmt.Fprintln(w)

	fmt.Fprintf(w, "%d simultaneous `ssh 127.0.0.1 true` from one address (what `kubectl port-forward` makes of every client):\n\n", c.burst)
	fmt.Fprintln(w, "| | holdfast | sshd |")
	fmt.Fprintln(w, "|---|---|---|")
	fmt.Fprintf(w, "| logins that got in | %d of %d | %d of %d |\n", burstOK[0], c.burst, burstOK[1], c.burst)
	fmt.Fprintln(w)
	for i, s := range servers {
		if burstErr[i] != nil {
			fmt.Fprintf(w, "- %s, first refused login: `%s`\n", s.name, firstLine(burstErr[i].Error()))
		}
	}
	return nil
}

// cpuAll reads every server's CPU time once its sessions are gone.
func cpuAll(servers []*server) ([]time.Duration, error) {
	out := make([]time.Duration, len(servers))
	for i, s := range servers {
		s.waitIdle()
		d, err := s.cpu()
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "?"
	}
	return s
}

func ratioStr(a, b float64) string {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", a/b)
}

func mib(kb int) string { return fmt.Sprintf("%.1f MiB", float64(kb)/1024) }

func sizeStr(n int64) string {
	if n%(1<<30) == 0 {
		return fmt.Sprintf("%d GiB", n>>30)
	}
	return fmt.Sprintf("%d MiB", n>>20)
}

func firstLine(s string) string {
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// machine describes the box and the versions compared.
func machine(holdfast string) []string {
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	cpu := "?"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	sshV, _ := exec.Command("ssh", "-V").CombinedOutput()
	hfV, _ := exec.Command(holdfast, "version").CombinedOutput()
	return []string{
		fmt.Sprintf("Linux %s, %d CPUs (%s)", strings.TrimSpace(string(kernel)), runtime.NumCPU(), cpu),
		fmt.Sprintf("OpenSSH: `%s` (client and server)", strings.TrimSpace(string(sshV))),
		fmt.Sprintf("holdfast: `%s`, static, CGO_ENABLED=0", firstLineRaw(string(hfV))),
	}
}

func firstLineRaw(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
