// Package testutil holds what the root module's tests share. Nothing outside
// _test.go files imports it.
package testutil

import (
	"bytes"
	"log/slog"
	"sync"
)

// Buffer is an output sink that a test may read while something else (a
// child's output copier, a logger) still writes to it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Logger returns a text logger that writes to b.
func (b *Buffer) Logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }
