package config

// Fuzz tests of what holdfast reads from outside: the command line, the
// HOLDFAST_* twins and the signal map. Their seeds run in every `go test`;
// run one longer with, e.g.,
//
//	go test ./internal/config -run '^$' -fuzz '^FuzzParse$' -fuzztime 5m

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/holdfast-dev/holdfast/launcher"
)

// FuzzParse: any command line and environment ends in a Config or in
// ErrHelp or a *UsageError (never a panic, never another error), the same
// both times, and a Config has a command and an absolute state dir.
func FuzzParse(f *testing.F) {
	for _, s := range [][2]string{
		{"app", ""},
		{"--hold=false\x00--max-restarts=0\x00--\x00java\x00-jar\x00x.jar", "HOLDFAST_GRACE=5s"},
		{"--state-dir\x00rel\x00status", "HOLDFAST_STATE_DIR=/x"},
		{"--probe-addr=\x00app", "HOLDFAST_SSH_ADDR="},
		{"--grace=1s\x00app", "HOLDFAST_GRACE=soon"},
		{"--signal-map=TERM:QUIT,HUP:USR1\x00app", "HOLDFAST_SIGNAL_MAP=INT:TERM"},
		{"--hold\x00false\x00app", ""},
		{"-h", ""},
		{"--log-max-bytes=99999999999999999999G\x00app", "HOLDFAST_LOG_MAX_BYTES=1k"},
		{"--backoff=1m\x00app", "HOLDFAST_BACKOFF_MAX=1s"},
		{"---x\x00app", "HOLDFAST_SSH_AUTHORIZED_KEYS=ssh-ed25519 AAAA"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, argv, envText string) {
		args := strings.Split(argv, "\x00")
		env := map[string]string{}
		for _, kv := range strings.Split(envText, "\x00") {
			if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "HOLDFAST_") && k != "HOLDFAST_USER" {
				env[k] = v // --user reads /etc/passwd: kept out, it is not pure
			}
		}
		if slices.ContainsFunc(args, func(a string) bool { return strings.Contains(a, "user") }) {
			return
		}
		c, err := Parse(args, envOf(env))
		c2, err2 := Parse(args, envOf(env))
		if fmt.Sprint(err) != fmt.Sprint(err2) || !reflect.DeepEqual(c, c2) {
			t.Fatalf("Parse is not deterministic: %v / %v", err, err2)
		}
		var ue *UsageError
		switch {
		case err == nil:
			if len(c.Command) == 0 || c.Command[0] == "" || !filepath.IsAbs(c.StateDir) || c.BackoffMax < c.Backoff {
				t.Fatalf("accepted %+v", c)
			}
		case errors.Is(err, ErrHelp), errors.As(err, &ue):
			if ue != nil && (ue.Msg == "" || strings.Contains(ue.Msg, "\n")) {
				t.Fatalf("usage error is not one line: %q", ue.Msg)
			}
		default:
			t.Fatalf("unexpected error type %T: %v", err, err)
		}
	})
}

// FuzzTwinMeansFlag: for every flag, a value given as the flag and as its
// environment twin is accepted or refused alike, and accepted gives the same
// Config. The exceptions are documented: the keys twin may hold inline
// keys, and an empty twin of a flag that refuses "" counts as unset.
func FuzzTwinMeansFlag(f *testing.F) {
	for i, fl := range flags {
		f.Add(uint8(i), fl.def)
		f.Add(uint8(i), "")
	}
	f.Add(uint8(0), "maybe")
	f.Add(uint8(10), ":99999")
	f.Add(uint8(10), "[::1]:80")
	f.Fuzz(func(t *testing.T, i uint8, v string) {
		fl := flags[int(i)%len(flags)]
		if fl.name == "user" || (fl.name == "ssh-authorized-keys" && looksLikeInlineKeys(v)) || (v == "" && !emptyMeans(fl)) {
			return
		}
		byFlag, errF := Parse([]string{"--" + fl.name + "=" + v, "app"}, nil)
		byEnv, errE := Parse([]string{"app"}, envOf(map[string]string{EnvName(fl.name): v}))
		if (errF == nil) != (errE == nil) {
			t.Fatalf("--%s=%q: flag error %v, twin error %v", fl.name, v, errF, errE)
		}
		if errF == nil && !reflect.DeepEqual(byFlag, byEnv) {
			t.Fatalf("--%s=%q: flag gives %+v, twin %+v", fl.name, v, byFlag, byEnv)
		}
	})
}

// FuzzSignalMap: a map that parses never maps SIGKILL, SIGSTOP, SIGCHLD or
// SIGURG, and reads back the same from its canonical text.
func FuzzSignalMap(f *testing.F) {
	for _, s := range []string{"", "TERM:QUIT,HUP:USR1", "term:quit", " 15 : 3 ", "RTMIN+3:USR2", "KILL:TERM",
		"TERM:QUIT,TERM:INT", "TERM", ":", ",", "SIGRTMIN+99:TERM", "64:1", "0:1", "TERM:QUIT,,HUP:INT"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		m, err := parseSignalMap(v)
		if err != nil {
			if m != nil {
				t.Fatalf("error %v with a map %v", err, m)
			}
			return
		}
		var parts []string
		for from, to := range m {
			switch from {
			case syscall.SIGKILL, syscall.SIGSTOP, syscall.SIGCHLD, syscall.SIGURG:
				t.Fatalf("%q maps %v", v, from)
			}
			parts = append(parts, launcher.SignalName(from)+":"+launcher.SignalName(to))
		}
		sort.Strings(parts)
		back, err := parseSignalMap(strings.Join(parts, ","))
		if err != nil || !reflect.DeepEqual(back, m) {
			t.Fatalf("%q -> %v -> %q -> %v, %v", v, m, strings.Join(parts, ","), back, err)
		}
	})
}
