package capture

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/holdfast-dev/holdfast/internal/testutil"
)

// tmpfs mounts a tmpfs of the given size on a fresh directory.
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("cannot mount a tmpfs on %s: %v", dir, err)
		}
		t.Skipf("cannot mount a tmpfs (needs root): %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("cannot unmount %s: %v", dir, err)
		}
	})
	return dir
}

// A full disk under output.log degrades retention to memory, logged once;
// the app is not held up and the console gets everything.
func TestFullDisk(t *testing.T) {
	for _, full := range []bool{true, false} { // false: the negative control
		t.Run(map[bool]string{true: "full", false: "roomy"}[full], func(t *testing.T) {
			dir := tmpfs(t, map[bool]string{true: "1m", false: "64m"}[full])
			con, stdout, stderr := testConsole(t)
			var logs testutil.Buffer
			run, err := Start(Options{Console: con, LogPath: dir + "/output.log", Logger: logs.Logger()})
			if err != nil {
				t.Fatal(err)
			}
			const nOut, nErr = 12 << 20, 4 << 20
			cmd := child(t, run, nil, "streams", strconv.Itoa(nOut), strconv.Itoa(nErr), "5")
			finish(t, run, cmd)

			wantOut, wantErr := streamData(Stdout, 5, nOut), streamData(Stderr, 5, nErr)
			if !bytes.Equal(stdout(), wantOut) || !bytes.Equal(stderr(), wantErr) {
				t.Errorf("console: stdout %d bytes, stderr %d bytes; want %d, %d", len(stdout()), len(stderr()), nOut, nErr)
			}
			kept := run.Bytes()
			if gotOut, gotErr := splitStreams(kept); !bytes.Equal(gotOut, wantOut) || !bytes.Equal(gotErr, wantErr) {
				t.Errorf("memory kept %d bytes, want all %d", len(kept), nOut+nErr)
			}
			file := readFile(t, dir+"/output.log")
			warnings := strings.Count(logs.String(), "cannot write the app's output to disk")
			if full {
				if warnings != 1 {
					t.Errorf("%d warnings about the disk, want 1; log:\n%s", warnings, logs.String())
				}
				if len(file) > 1<<20 || !bytes.HasPrefix(kept, file) {
					t.Errorf("output.log: %d bytes, not a prefix of the retained log", len(file))
				}
			} else if warnings != 0 || !bytes.Equal(file, kept) {
				t.Errorf("roomy disk: %d warnings, output.log %d bytes of %d", warnings, len(file), len(kept))
			}
		})
	}
}

// A console stdout whose reader is gone (EPIPE) or that was closed: no
// crash, the app's pipe is still drained, retention goes on, one warning.
func TestClosedConsole(t *testing.T) {
	for _, how := range []string{"epipe", "closed"} {
		t.Run(how, func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if how == "epipe" {
				r.Close()
			} else {
				defer r.Close()
				w.Close()
			}
			errF, err := os.OpenFile(t.TempDir()+"/stderr", os.O_CREATE|os.O_WRONLY, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			defer errF.Close()
			var logs testutil.Buffer
			run, err := Start(Options{Console: NewConsole(w, errF), Logger: logs.Logger()})
			if err != nil {
				t.Fatal(err)
			}
			const nOut, nErr = 8 << 20, 1 << 20 // far more than the pipes hold
			cmd := child(t, run, nil, "streams", strconv.Itoa(nOut), strconv.Itoa(nErr), "9")
			finish(t, run, cmd) // the app exits 0: it was drained, and never got EPIPE

			gotOut, gotErr := splitStreams(run.Bytes())
			if !bytes.Equal(gotOut, streamData(Stdout, 9, nOut)) || !bytes.Equal(gotErr, streamData(Stderr, 9, nErr)) {
				t.Errorf("kept stdout %d bytes, stderr %d bytes; want %d, %d", len(gotOut), len(gotErr), nOut, nErr)
			}
			if got := readFile(t, errF.Name()); !bytes.Equal(got, streamData(Stderr, 9, nErr)) {
				t.Errorf("console stderr got %d bytes, want %d", len(got), nErr)
			}
			if n := strings.Count(logs.String(), "cannot pass the app's output on"); n != 1 {
				t.Errorf("%d warnings, want 1; log:\n%s", n, logs.String())
			}
		})
	}
}
