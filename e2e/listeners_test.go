package e2e

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/holdfast-dev/holdfast/e2e/hfrun"
)

// TestListenerInUse: every listener a flag asks holdfast to open is opened before the
// app starts, and an address that cannot be bound ends holdfast with exit 2 and one
// line naming the flag and the address; the app never starts. That is --probe-addr,
// and --ssh-addr when keys are configured. The control: without keys ssh is off, opens
// nothing, and an --ssh-addr in use does not matter.
func TestListenerInUse(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() })
	addr := busy.Addr().String()
	keys := t.TempDir()
	priv := sshKeygen(t, keys, "client")
	pub, err := os.ReadFile(priv + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	ak := filepath.Join(keys, "authorized_keys")
	if err := os.WriteFile(ak, pub, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		flag string // named in the refusal; "" = no refusal, the app runs
	}{
		{"probe", []string{"--probe-addr=" + addr}, "--probe-addr"},
		{"ssh with keys", []string{"--ssh-addr=" + addr, "--ssh-authorized-keys=" + ak}, "--ssh-addr"},
		{"ssh without keys", []string{"--ssh-addr=" + addr}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			marker := filepath.Join(t.TempDir(), "started")
			h := startPID1(t, []string{fakeEnv + "=marker", fakeMarker + "=" + marker},
				append(c.args, "--", selfExe)...)
			code := h.waitExit(t, hfrun.WaitLong)
			_, statErr := os.Stat(marker)
			started := statErr == nil
			if c.flag == "" {
				if code != 0 || !started {
					t.Errorf("%v without keys: exit %d, app started %v; want exit 0 and the app run (ssh is off)", c.args, code, started)
				}
				return
			}
			if code != 2 {
				t.Errorf("%v with %s in use: exit %d, want 2", c.args, addr, code)
			}
			if started {
				t.Errorf("%v with %s in use: the app started; want nothing started", c.args, addr)
			}
			if l := linesWith(h.stderr.String(), c.flag); len(l) != 1 || !strings.Contains(l[0], addr) || !strings.Contains(l[0], "in use") {
				t.Errorf("want one line on stderr naming %s, %s and \"in use\", got:\n%s", c.flag, addr, h.stderr)
			}
		})
	}
}
