package control

import (
	"context"
	"net/http"
	"time"

	"github.com/holdfast-dev/holdfast/internal/dumps"
)

// Dumper is the part of a Backend that takes JVM dumps (`holdfast dump`).
// A Backend without it answers POST /v1/dump/<kind> with 501.
type Dumper interface {
	// Dump takes a dump of the app's JVM into the current run's dir.
	Dump(ctx context.Context, kind dumps.Kind) (dumps.Result, error)
}

// DumpTimeout bounds one dump request: a heap dump of a multi-GiB heap
// takes seconds to minutes; the client waits a little longer than the
// server lets the attach run.
const DumpTimeout = 10 * time.Minute

// dumpBody is the answer to a dump request.
type dumpBody struct {
	Path string `json:"path,omitempty"`
	Note string `json:"note,omitempty"`
}

// dump handles POST /v1/dump/{kind}. It runs on its own connection's
// goroutine, so a long heap dump holds up neither the supervisor nor other
// requests.
func (s *Server) dump(w http.ResponseWriter, r *http.Request) {
	kind, err := dumps.ParseKind(r.PathValue("kind"))
	if err != nil {
		writeJSON(w, http.StatusNotFound, errorBody{err.Error()})
		return
	}
	d, ok := s.b.(Dumper)
	if !ok {
		writeJSON(w, http.StatusNotImplemented, errorBody{"this holdfast takes no dumps"})
		return
	}
	s.log.Info("control request", "action", "dump", "kind", kind)
	ctx, cancel := context.WithTimeout(r.Context(), DumpTimeout)
	defer cancel()
	res, err := d.Dump(ctx, kind)
	if err != nil {
		writeJSON(w, http.StatusConflict, errorBody{err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, dumpBody(res))
}

// Dump asks the running holdfast for a dump of the app's JVM and returns
// what it wrote.
func (c *Client) Dump(ctx context.Context, kind dumps.Kind) (dumps.Result, error) {
	var b dumpBody
	if _, err := c.getJSON(ctx, http.MethodPost, "/v1/dump/"+string(kind), &b); err != nil {
		return dumps.Result{}, err
	}
	return dumps.Result(b), nil
}
