package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestShellJoinQuotesWhatASplitterWouldCut(t *testing.T) {
	got := shellJoin([]string{"/x/benchapp", "lines", "512", "/tmp/a b", "it's", ""})
	want := `/x/benchapp lines 512 '/tmp/a b' 'it'\''s' ''`
	if got != want {
		t.Fatalf("shellJoin = %s, want %s", got, want)
	}
}

// Every supervisord config the benchmark writes must open no listener: no
// [unix_http_server] and no [inet_http_server] section.
func TestSupervisordConfOpensNoListener(t *testing.T) {
	dir := t.TempDir()
	for _, python := range []bool{false, true} {
		for _, o := range []peerOpts{{}, {crashLoop: 5}} {
			path := filepath.Join(dir, "s.conf")
			if err := writeSupervisordConf(path, dir, []string{"/bin/app", "x"}, o, python); err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(path)
			c := string(b)
			if strings.Contains(c, "http_server") {
				t.Errorf("config opens a listener:\n%s", c)
			}
			want := "startsecs=0"
			if !python && o.crashLoop > 0 {
				want = "startsecs=1"
			}
			if !strings.Contains(c, want) || !strings.Contains(c, "command=/bin/app x") {
				t.Errorf("config lacks the program:\n%s", c)
			}
			if restart := strings.Contains(c, "autorestart=true"); restart != (o.crashLoop > 0) {
				t.Errorf("crashLoop %d: autorestart=true is %v:\n%s", o.crashLoop, restart, c)
			}
		}
	}
}

func TestPebbleLayerLeastBackoffOnlyInACrashLoop(t *testing.T) {
	for _, o := range []peerOpts{{}, {crashLoop: 3}} {
		dir := t.TempDir()
		if err := writePebbleLayer(dir, []string{"/bin/app"}, o); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, "layers", "001-bench.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		y := string(b)
		if !strings.Contains(y, "override: replace") || !strings.Contains(y, "startup: enabled") {
			t.Errorf("layer lacks the service:\n%s", y)
		}
		if got := strings.Contains(y, "backoff-delay: 0s"); got != (o.crashLoop > 0) {
			t.Errorf("crashLoop %d: backoff-delay 0s is %v:\n%s", o.crashLoop, got, y)
		}
	}
}
