package capture

import (
	"os"
	"context"
	"sync/atomic"
	"testing"
)

func TestZZReadSizes(t *testing.T) {
	null := devNullT(t)
	con := NewConsole(null, null)
	var calls atomic.Int64
	run, _ := Start(Options{Console: con, LogPath: t.TempDir() + "/o.log", OnBytes: func(s Stream, n int) { calls.Add(1) }})
	cmd := child(t, run, nil, "bulk", "1073741824")
	run.Finish(context.Background())
	cmd.Wait()
	t.Logf("reads %d avg %d", calls.Load(), run.Total(Stdout)/calls.Load())
}

func devNullT(t *testing.T) *os.File {
	f, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	return f
}
