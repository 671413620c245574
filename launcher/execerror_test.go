package launcher

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestExplainExecError(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, path string
		want       string // in the message; "" = the error unchanged
	}{
		{"missing interpreter", write("s1", "#!/nonexistent/interp -x\necho\n"), `bad interpreter "/nonexistent/interp" on its #! line`},
		{"blanks before it", write("s2", "#! \t/nonexistent/other\n"), `bad interpreter "/nonexistent/other"`},
		{"CRLF line end", write("s3", "#!/bin/sh\r\necho\r\n"), `bad interpreter "/bin/sh\r"`},
		{"no line end", write("s4", "#!/nonexistent/x"), `bad interpreter "/nonexistent/x"`},
		{"interpreter exists", write("s5", "#!/bin/sh\n"), `its #! interpreter "/bin/sh" cannot be run`},
		{"binary", write("b1", "\x7fELF..."), "dynamic loader"},
		{"file missing", filepath.Join(dir, "nope"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orig := &fs.PathError{Op: "fork/exec", Path: tc.path, Err: syscall.ENOENT}
			err := explainExecError(tc.path, orig)
			if tc.want == "" {
				if err != orig {
					t.Errorf("got %v, want the error unchanged", err)
				}
				return
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %q, want it to contain %q", err, tc.want)
			}
			if !errors.Is(err, fs.ErrNotExist) || ExecErrorCode(err) != ExitNotFound {
				t.Errorf("%v: exit code %d, want %d (not found)", err, ExecErrorCode(err), ExitNotFound)
			}
		})
	}
	// Other errors pass through.
	orig := &fs.PathError{Op: "fork/exec", Path: "/bin/sh", Err: syscall.EACCES}
	if err := explainExecError("/bin/sh", orig); err != orig {
		t.Errorf("EACCES: got %v, want it unchanged", err)
	}
}
