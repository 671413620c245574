package cause

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzExtractor: any output, in any chunks, on either stream, gives no
// panic, a bounded footprint, and a well-formed cause.
func FuzzExtractor(f *testing.F) {
	paths, _ := filepath.Glob("testdata/corpus/*.txt")
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b, uint8(7), uint8(1))
		}
	}
	f.Fuzz(func(t *testing.T, out []byte, chunk, streams uint8) {
		e := New()
		size := int(chunk) + 1
		for i := 0; len(out) > 0; i++ {
			n := min(size, len(out))
			e.Write(Stream(i%2&int(streams)), out[:n])
			out = out[n:]
			if e.Footprint() > 300<<10 {
				t.Fatalf("footprint %d", e.Footprint())
			}
		}
		c := e.Result(Exit{Code: 1})
		if c == nil {
			t.Fatal("no cause for exit code 1")
		}
		checkSummary(t, c)
	})
}
