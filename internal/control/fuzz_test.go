package control

// Fuzz test of the control protocol's requests. The seeds run in every
// `go test`; run it longer with
//
//	go test ./internal/control -run '^$' -fuzz '^FuzzRequest$' -fuzztime 5m

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/holdfast-dev/holdfast/internal/state"
)

// FuzzRequest sends any request the HTTP parser accepts to the server's
// handler, as root and as another uid: it never panics, answers with one of
// the protocol's codes, gives a JSON body for every error, hands the
// supervisor only the four known requests, and gives another uid nothing
// but 403.
func FuzzRequest(f *testing.F) {
	for _, s := range []string{
		"GET /v1/status HTTP/1.1\r\nHost: holdfast\r\n\r\n",
		"GET /v1/runs HTTP/1.1\r\nHost: holdfast\r\n\r\n",
		"GET /v1/logs?run=2&tail=5 HTTP/1.1\r\nHost: holdfast\r\n\r\n",
		"GET /v1/logs?run=-1&tail=x&follow=1 HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /v1/logs?tail=99999999999999999999999 HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /v1/probe/ready HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /v1/probe/../../etc HTTP/1.1\r\nHost: h\r\n\r\n",
		"POST /v1/release HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
		"POST /v1/explode HTTP/1.1\r\nHost: h\r\n\r\n",
		"DELETE /v1/status HTTP/1.1\r\nHost: h\r\n\r\n",
		"POST /v1/%72estart HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET //v1/status?% HTTP/1.0\r\n\r\n",
	} {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, raw []byte, asRoot bool) {
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return
		}
		reason := state.ReasonStartupCrash
		b := &fakeBackend{snap: state.Snapshot{Phase: state.Held, HoldReason: &reason}, logs: []byte("a\nb\n")}
		s := NewServer(b, slogDiscard())
		s.uid = 4242 // a non-root holdfast: root and 4242 are served (read per request)
		peer := PeerCred{UID: 4242}
		if !asRoot {
			peer.UID = 1000
		}
		req = req.WithContext(context.WithValue(context.Background(), peerKey{}, peer))
		w := httptest.NewRecorder()
		s.srv.Handler.ServeHTTP(w, req)
		code := w.Code
		if !slices.Contains([]int{200, 301, 307, 308, 400, 403, 404, 405, 409, 503}, code) {
			t.Fatalf("%q: status %d", raw, code)
		}
		if !asRoot {
			if code != http.StatusForbidden || b.lastReq != "" || strings.Contains(w.Body.String(), "held") {
				t.Fatalf("another uid got %d %q (request %q)", code, w.Body.String(), b.lastReq)
			}
			return
		}
		if b.lastReq != "" && !slices.Contains([]string{"restart", "release", "stop", "hold"}, b.lastReq) {
			t.Fatalf("%q reached the supervisor as %q", raw, b.lastReq)
		}
		// 503 is probe ready's "not ready", a status rather than an error.
		if code >= 400 && code != 405 && code != 503 && strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
			var e errorBody
			if json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Error == "" {
				t.Fatalf("%q: error answer %d without a JSON error: %q", raw, code, w.Body.String())
			}
		}
	})
}
