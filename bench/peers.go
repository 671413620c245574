package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// peerKind names the supervisors the peers section compares: the choices a
// user would weigh holdfast against, each set up the way its own docs say,
// with every listener off (or on loopback where a row needs one).
type peerKind int

const (
	kindBare     peerKind = iota // the app as PID 1: no supervisor
	kindCat                      // the app piped through cat: a relay keeping nothing
	kindHoldfast                 // holdfast
	kindPebble                   // Pebble, ring buffer only
	kindPebbleV                  // Pebble --verbose: ring buffer and its stdout
	kindSvGo                     // supervisord, the Go port
	kindSvPy                     // supervisord, Python
)

// peerSup is one supervisor and where its binary is.
type peerSup struct {
	name  string
	kind  peerKind
	bin   string
	flags []string // holdfast only: flags before the ones every row gets
}

// peerOpts are the few things a row changes in a supervisor's setup.
type peerOpts struct {
	// crashLoop > 0: restart the app whenever it fails, with the least delay
	// the supervisor allows, at least crashLoop times.
	crashLoop int
	// metricsAddr: a loopback TCP address for holdfast's /metrics; Pebble's
	// metrics are on its unix socket whatever this says.
	metricsAddr string
}

func (p peerSup) isBare() bool { return p.kind == kindBare || p.kind == kindCat }

// variant builds the command line of PID 1 for p, writing p's
// configuration into the session's fresh state dir first.
func (b *bench) peerVariant(p peerSup, o peerOpts) variant {
	v := variant{name: p.name}
	switch p.kind {
	case kindBare:
		v.argv = func(app []string, _ string) []string { return app }
		return v
	case kindCat:
		v.argv = func(app []string, _ string) []string {
			return append([]string{"/bin/sh", "-c", `"$@" | cat`, "sh"}, app...)
		}
		return v
	}
	v.stateRoot = filepath.Join(b.work, "peers")
	os.MkdirAll(v.stateRoot, 0o755)
	v.argv = func(app []string, dir string) []string {
		argv, err := peerArgv(p, o, app, dir)
		if err != nil {
			// The session then fails to start with this in its stderr.
			return []string{"/bin/sh", "-c", "echo " + strconv.Quote(err.Error()) + " >&2; exit 2"}
		}
		return argv
	}
	return v
}

func peerArgv(p peerSup, o peerOpts, app []string, dir string) ([]string, error) {
	switch p.kind {
	case kindHoldfast:
		a := append(append([]string{p.bin}, p.flags...), "--probe-addr="+o.metricsAddr, "--ssh-addr=", "--state-dir="+dir)
		if o.crashLoop > 0 {
			a = append(a, "--hold=true", "--max-restarts="+strconv.Itoa(o.crashLoop), "--backoff=0")
		}
		return append(append(a, "--"), app...), nil
	case kindPebble, kindPebbleV:
		if err := writePebbleLayer(dir, app, o); err != nil {
			return nil, err
		}
		// env, then exec: PID 1 is pebble itself.
		a := []string{"/usr/bin/env", "PEBBLE=" + dir, p.bin, "run", "--create-dirs"}
		if p.kind == kindPebbleV {
			a = append(a, "--verbose")
		}
		return a, nil
	case kindSvGo, kindSvPy:
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		conf := filepath.Join(dir, "supervisord.conf")
		if err := writeSupervisordConf(conf, dir, app, o, p.kind == kindSvPy); err != nil {
			return nil, err
		}
		if p.kind == kindSvPy {
			return []string{p.bin, "--nodaemon", "--configuration", conf}, nil
		}
		return []string{p.bin, "--configuration", conf}, nil
	}
	return nil, fmt.Errorf("unknown supervisor %q", p.name)
}

// writePebbleLayer writes the one layer Pebble starts from: the app as a
// service started at boot. In a crash loop it restarts on failure with
// backoff-delay 0 and factor 1, Pebble's least (the delay is the first
// backoff, and each next one is the last times the factor).
func writePebbleLayer(dir string, app []string, o peerOpts) error {
	var y strings.Builder
	fmt.Fprintf(&y, "summary: holdfast benchmark\nservices:\n  app:\n    override: replace\n    command: %s\n    startup: enabled\n", shellJoin(app))
	if o.crashLoop > 0 {
		y.WriteString("    on-failure: restart\n    backoff-delay: 0s\n    backoff-factor: 1\n    backoff-limit: 0s\n")
	} else {
		y.WriteString("    on-success: ignore\n    on-failure: ignore\n")
	}
	layers := filepath.Join(dir, "layers")
	if err := os.MkdirAll(layers, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(layers, "001-bench.yaml"), []byte(y.String()), 0o644)
}

// writeSupervisordConf writes the same program for both supervisords: no
// control listener at all ([unix_http_server] and [inet_http_server] left
// out), the app's stdout and stderr in one log file with each one's default
// rotation (50 MB, 10 backups), and in a crash loop autorestart=true with
// each one's least delay: startsecs=0 for Python supervisord (the app counts
// as started at once, so an exit is never a failed start that backs off),
// startsecs=1 for the Go port (see below).
func writeSupervisordConf(path, dir string, app []string, o peerOpts, python bool) error {
	var c strings.Builder
	fmt.Fprintf(&c, "[supervisord]\nlogfile=%s\npidfile=%s\n", filepath.Join(dir, "supervisord.log"), filepath.Join(dir, "supervisord.pid"))
	if python {
		fmt.Fprintf(&c, "nodaemon=true\nuser=root\nchildlogdir=%s\n", dir)
	}
	// The Go port's least usable startsecs is 1: with 0, v0.6.9 waits
	// forever after the first exit for a monitor goroutine it never started
	// (process/process.go), so it never restarts. With 1, an exit within the
	// first second is a failed start, retried at once.
	startsecs := 0
	if !python && o.crashLoop > 0 {
		startsecs = 1
	}
	fmt.Fprintf(&c, "\n[program:app]\ncommand=%s\nautostart=true\nstartsecs=%d\nredirect_stderr=true\nstdout_logfile=%s\n",
		shellJoin(app), startsecs, filepath.Join(dir, "app.log"))
	if o.crashLoop > 0 {
		fmt.Fprintf(&c, "autorestart=true\nstartretries=%d\n", o.crashLoop*10)
	} else {
		c.WriteString("autorestart=false\n")
	}
	return os.WriteFile(path, []byte(c.String()), 0o644)
}

// shellJoin quotes argv for a command line that a supervisor splits as a
// shell would (Pebble's shlex, supervisord's shlex).
func shellJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-=:+,") == "" {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// binCopy copies holdfast's binary to a file of its own in the work dir
// and returns its path; on error it returns the shared binary.
func (b *bench) binCopy(name string) string {
	data, err := os.ReadFile(b.holdfast)
	if err != nil {
		return b.holdfast
	}
	// Written back before it runs: the kernel pages out only clean pages,
	// so a copy still dirty in the page cache would defeat --trim-memory.
	path := filepath.Join(b.work, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return b.holdfast
	}
	_, err = f.Write(data)
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		return b.holdfast
	}
	return path
}
