package exitdesc

import "testing"

func TestText(t *testing.T) {
	for _, c := range []struct {
		code   int
		signal string
		core   bool
		want   string
	}{
		{0, "", false, "exit code 0"},
		{3, "", false, "exit code 3"},
		{143, "SIGTERM", false, "killed by SIGTERM (code 143)"},
		{139, "SIGSEGV", true, "killed by SIGSEGV (code 139, core dumped)"},
		// A core flag without a signal cannot happen; the code still reads right.
		{1, "", true, "exit code 1"},
	} {
		if got := Text(c.code, c.signal, c.core); got != c.want {
			t.Errorf("Text(%d, %q, %v) = %q, want %q", c.code, c.signal, c.core, got, c.want)
		}
	}
}
