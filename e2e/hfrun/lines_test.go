package hfrun

import "testing"

func TestCountLines(t *testing.T) {
	s := "stderr-line\nwhy: last stderr line: stderr-line\nstderr-line\nstderr-line-2\n"
	if n := CountLines(s, "stderr-line"); n != 2 {
		t.Errorf("CountLines = %d, want 2 (a quoted line and a longer one do not count)", n)
	}
	if n := CountLines("", "x"); n != 0 {
		t.Errorf("CountLines of nothing = %d", n)
	}
}
