package control

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/holdfast-dev/holdfast/internal/dumps"
)

// dumpingBackend is fakeBackend that takes dumps.
type dumpingBackend struct {
	fakeBackend
	kinds []dumps.Kind
	err   error
}

func (b *dumpingBackend) Dump(_ context.Context, kind dumps.Kind) (dumps.Result, error) {
	b.kinds = append(b.kinds, kind)
	if b.err != nil {
		return dumps.Result{}, b.err
	}
	return dumps.Result{Path: "/state/runs/1/threads-x.txt", Note: "done"}, nil
}

// A dump request reaches the backend's Dump and its result the client; a
// failure is a 409 with the backend's message; an unknown kind never
// reaches the backend; a backend without Dump answers 501.
func TestDump(t *testing.T) {
	b := &dumpingBackend{}
	_, c := serveFake(t, b)
	ctx, cancel := WithTimeout()
	defer cancel()
	res, err := c.Dump(ctx, dumps.Threads)
	if err != nil || res.Path != "/state/runs/1/threads-x.txt" || res.Note != "done" {
		t.Errorf("Dump = %+v, %v", res, err)
	}
	b.err = errors.New("no app process is running")
	var api *APIError
	if _, err := c.Dump(ctx, dumps.Heap); !errors.As(err, &api) || api.Status != http.StatusConflict || api.Msg != b.err.Error() {
		t.Errorf("failed Dump: %v, want 409 with the backend's message", err)
	}
	if _, err := c.Dump(ctx, dumps.Kind("core")); !errors.As(err, &api) || api.Status != http.StatusNotFound {
		t.Errorf("Dump(core): %v, want 404", err)
	}
	if len(b.kinds) != 2 || b.kinds[0] != dumps.Threads || b.kinds[1] != dumps.Heap {
		t.Errorf("the backend got %q, want threads then heap", b.kinds)
	}
	_, plain := serveFake(t, &fakeBackend{})
	if _, err := plain.Dump(ctx, dumps.Threads); !errors.As(err, &api) || api.Status != http.StatusNotImplemented {
		t.Errorf("Dump from a backend without Dump: %v, want 501", err)
	}
}
