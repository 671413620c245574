package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

const testPasswd = `root:x:0:0:root:/root:/bin/sh
# a comment
+nisuser::::::

app:x:1000:1000:The App:/home/app:/bin/sh
svc:x:1001:1500::/srv:/bin/false
broken:x:oops:1:::
wrap:x:4294967295:1:::
dup:x:1002:1002:first::
dup:x:1003:1003:second::
`

const testGroup = `root:x:0:
app:x:1000:
jvm:x:2000:app,svc
logs:x:2001:svc,app,other
staff:x:50:
svcgrp:x:1500:
empty:x:2002:
bad:x:nope:app
`

func writeAccounts(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	p, g := filepath.Join(dir, "passwd"), filepath.Join(dir, "group")
	if err := os.WriteFile(p, []byte(testPasswd), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(g, []byte(testGroup), 0o644); err != nil {
		t.Fatal(err)
	}
	setAccountFiles(t, p, g)
}

func TestResolveUser(t *testing.T) {
	writeAccounts(t)
	for spec, want := range map[string]syscall.Credential{
		"root":       {Uid: 0, Gid: 0},
		"app":        {Uid: 1000, Gid: 1000, Groups: []uint32{2000, 2001}},
		"svc":        {Uid: 1001, Gid: 1500, Groups: []uint32{2000, 2001}},
		"1000":       {Uid: 1000, Gid: 1000, Groups: []uint32{2000, 2001}}, // numeric uid matches the entry
		"4242":       {Uid: 4242, Gid: 0},                                  // no entry: gid 0, as Docker does
		"app:staff":  {Uid: 1000, Gid: 50},                                 // an explicit group is the only one
		"app:50":     {Uid: 1000, Gid: 50},
		"app:7777":   {Uid: 1000, Gid: 7777}, // a numeric gid need not exist
		"4242:jvm":   {Uid: 4242, Gid: 2000},
		"4242:4343":  {Uid: 4242, Gid: 4343},
		"0:0":        {Uid: 0, Gid: 0},
		"dup":        {Uid: 1002, Gid: 1002}, // the first entry wins
		"1003":       {Uid: 1003, Gid: 1003},
		"00001000:0": {Uid: 1000, Gid: 0},
	} {
		got, err := resolveUser(spec)
		if err != nil {
			t.Errorf("resolveUser(%q): %v", spec, err)
			continue
		}
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("resolveUser(%q) = %+v, want %+v", spec, *got, want)
		}
	}
	for spec, want := range map[string]string{
		"ghost":        `no user "ghost"`,
		"app:ghosts":   `no group "ghosts"`,
		"broken":       "bad uid or gid",
		"wrap":         "bad uid or gid", // never 0 by accident
		"4294967295":   "out of range",
		"1:4294967296": "out of range",
		"":             "user is empty",
		":app":         "user is empty",
		"app:":         "group is empty",
		"app:bad":      "bad gid",
		"nisuser":      `no user "nisuser"`,
		"+nisuser":     `no user "+nisuser"`,
	} {
		got, err := resolveUser(spec)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("resolveUser(%q) = %+v, %v; want an error with %q", spec, got, err, want)
		}
	}
}

// Without /etc/passwd and /etc/group (scratch and distroless images), ids
// still work and names fail with the file named.
func TestResolveUserWithoutFiles(t *testing.T) {
	noAccountFiles(t)
	for spec, want := range map[string]syscall.Credential{
		"1000":      {Uid: 1000},
		"1000:2000": {Uid: 1000, Gid: 2000},
	} {
		got, err := resolveUser(spec)
		if err != nil || !reflect.DeepEqual(*got, want) {
			t.Errorf("resolveUser(%q) = %+v, %v; want %+v", spec, got, err, want)
		}
	}
	for spec, want := range map[string]string{"app": passwdFile, "1000:app": groupFile} {
		if got, err := resolveUser(spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("resolveUser(%q) = %+v, %v; want an error naming %s", spec, got, err, want)
		}
	}
}

func TestUserFlag(t *testing.T) {
	writeAccounts(t)
	c := mustParse(t, []string{"--user", "app", "app"}, nil)
	want := &syscall.Credential{Uid: 1000, Gid: 1000, Groups: []uint32{2000, 2001}}
	if c.User != "app" || !reflect.DeepEqual(c.Credential, want) {
		t.Errorf("--user app: %q %+v", c.User, c.Credential)
	}
	if c := mustParse(t, []string{"app"}, nil); c.Credential != nil {
		t.Errorf("no --user: credential %+v, want nil", c.Credential)
	}
	// The flag wins over the twin, even to switch it off.
	if c := mustParse(t, []string{"--user=", "app"}, map[string]string{"HOLDFAST_USER": "app"}); c.Credential != nil || c.User != "" {
		t.Errorf("--user= over HOLDFAST_USER: %q %+v", c.User, c.Credential)
	}
	msg := usageError(t, []string{"--user", "ghost", "app"}, nil)
	if !strings.Contains(msg, `invalid value "ghost" for --user: no user "ghost" in `+passwdFile) {
		t.Errorf("message %q", msg)
	}
}
