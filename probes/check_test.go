package probes

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func check(t *testing.T, client *http.Client, url string, timeout time.Duration) (bool, string, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	ok, detail := CheckURL(ctx, client, url)
	return ok, detail, time.Since(start)
}

func TestCheckURLStatusCodes(t *testing.T) {
	var sawHeaders atomic.Pointer[http.Request]
	mux := http.NewServeMux()
	for _, code := range []int{200, 204, 399, 400, 404, 500, 503} {
		mux.HandleFunc("/code/"+strconv.Itoa(code), func(w http.ResponseWriter, r *http.Request) {
			sawHeaders.Store(r)
			w.WriteHeader(code)
		})
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, tc := range []struct {
		code   int
		ok     bool
		detail string
	}{
		{200, true, "HTTP 200"},
		{204, true, "HTTP 204"},
		{399, true, "HTTP 399 (redirect not followed)"},
		{400, false, "HTTP 400"},
		{404, false, "HTTP 404"},
		{500, false, "HTTP 500"},
		{503, false, "HTTP 503"},
	} {
		ok, detail, _ := check(t, nil, srv.URL+"/code/"+strconv.Itoa(tc.code), 10*time.Second)
		if ok != tc.ok || detail != tc.detail {
			t.Errorf("status %d: CheckURL = %v %q, want %v %q", tc.code, ok, detail, tc.ok, tc.detail)
		}
	}

	// kubelet's request shape: GET, Accept */*, our User-Agent, no keep-alive.
	r := sawHeaders.Load()
	if r == nil {
		t.Fatal("no request seen")
	}
	if r.Method != "GET" || r.Header.Get("Accept") != "*/*" || !strings.HasPrefix(r.UserAgent(), "holdfast/") || !r.Close {
		t.Errorf("request = %s Accept %q UA %q Close %v, want GET */* holdfast/... Connection: close",
			r.Method, r.Header.Get("Accept"), r.UserAgent(), r.Close)
	}
	if ae := r.Header.Get("Accept-Encoding"); ae != "" {
		t.Errorf("Accept-Encoding = %q, want none (kubelet disables compression)", ae)
	}
}

func TestCheckURLRedirects(t *testing.T) {
	// other counts hits: a redirect to another host must not reach it.
	var otherHits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherHits.Add(1)
		w.WriteHeader(503)
	}))
	defer other.Close()
	_, otherPort, _ := net.SplitHostPort(other.Listener.Addr().String())

	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	mux.HandleFunc("/bad", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	mux.HandleFunc("/to-ok", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/to-bad", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/bad", http.StatusFound) })
	// Same port, different host name: kubelet compares host names only.
	mux.HandleFunc("/to-other", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://localhost:"+otherPort+"/", http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, tc := range []struct {
		path   string
		ok     bool
		detail string
	}{
		{"/to-ok", true, "HTTP 200"},                            // same host: followed
		{"/to-bad", false, "HTTP 503"},                          // followed, so the target's failure counts
		{"/to-other", true, "HTTP 302 (redirect not followed)"}, // other host: success, not followed
		{"/loop", false, "stopped after 10 redirects"},          // net/http's cap, as kubelet
	} {
		ok, detail, _ := check(t, nil, srv.URL+tc.path, 10*time.Second)
		if ok != tc.ok || detail != tc.detail {
			t.Errorf("%s: CheckURL = %v %q, want %v %q", tc.path, ok, detail, tc.ok, tc.detail)
		}
	}
	if n := otherHits.Load(); n != 0 {
		t.Errorf("the other host got %d requests, want 0 (redirect must not be followed)", n)
	}
	// Control: the other host is reachable and fails, so 0 hits above is
	// not because it was down.
	if ok, detail, _ := check(t, nil, "http://localhost:"+otherPort+"/", 10*time.Second); ok || otherHits.Load() != 1 {
		t.Errorf("direct check of the other host = %v %q, hits %d", ok, detail, otherHits.Load())
	}
}

// countingTransport counts body bytes the caller actually reads.
type countingTransport struct {
	rt   http.RoundTripper
	read atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := c.rt.RoundTrip(r)
	if err == nil {
		res.Body = &countingBody{ReadCloser: res.Body, n: &c.read}
	}
	return res, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func TestCheckURLEndlessBody(t *testing.T) {
	writerDone := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		chunk := []byte(strings.Repeat("x", 4096))
		for {
			if _, err := w.Write(chunk); err != nil {
				writerDone <- err
				return
			}
		}
	}))
	defer srv.Close()

	client := NewCheckClient()
	ct := &countingTransport{rt: client.Transport}
	client.Transport = ct
	ok, detail, took := check(t, client, srv.URL, 30*time.Second)
	if !ok || detail != "HTTP 200" {
		t.Errorf("endless body: CheckURL = %v %q, want true HTTP 200", ok, detail)
	}
	if took > 5*time.Second {
		t.Errorf("endless body: CheckURL took %v, want prompt return", took)
	}
	if n := ct.read.Load(); n != maxCheckBody {
		t.Errorf("read %d body bytes, want exactly %d", n, maxCheckBody)
	}
	// The connection is closed after the check: the server's writes fail.
	select {
	case err := <-writerDone:
		t.Logf("server writer stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Error("server kept writing: the check did not close the connection")
	}
}

func TestCheckURLConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ok, detail, _ := check(t, nil, "http://"+addr+"/ready", 10*time.Second)
	if ok || detail != "connection refused" {
		t.Errorf("closed port: CheckURL = %v %q, want false \"connection refused\"", ok, detail)
	}
}

func TestCheckURLTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // a hung app: never answers until the test ends
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	ok, detail, took := check(t, nil, srv.URL, 200*time.Millisecond)
	if ok || detail != "timeout after 200ms" {
		t.Errorf("hung app: CheckURL = %v %q, want false \"timeout after 200ms\"", ok, detail)
	}
	if took > 5*time.Second {
		t.Errorf("hung app: CheckURL took %v with a 200ms deadline", took)
	}

	// A body that stalls after the headers also times out, as a failure.
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.Write([]byte("partial"))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv2.Close()
	ok, detail, _ = check(t, nil, srv2.URL, 200*time.Millisecond)
	if ok || !strings.Contains(detail, "timeout after 200ms") {
		t.Errorf("stalled body: CheckURL = %v %q, want false with a timeout", ok, detail)
	}
}

func TestCheckURLBadURL(t *testing.T) {
	ok, detail, _ := check(t, nil, "http://[::1", time.Second)
	if ok || !strings.HasPrefix(detail, "cannot parse url") {
		t.Errorf("bad url: CheckURL = %v %q", ok, detail)
	}
}

// The timeout a check reports is the one the caller set, however long the
// caller took between setting the deadline and the check's start.
func TestRoundDurationGivesBackTheTimeout(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct{ in, want time.Duration }{
		{200 * ms, 200 * ms},
		{200*ms - 600*time.Microsecond, 200 * ms}, // the flake: 199.4ms read as "199ms"
		{200*ms - 9*ms, 200 * ms},
		{250 * ms, 250 * ms},
		{time.Second - 3*ms, time.Second},
		{time.Second, time.Second},
		{2*time.Second - 40*ms, 2 * time.Second},
		{1500 * ms, 1500 * ms},
	} {
		if got := roundDuration(c.in); got != c.want {
			t.Errorf("roundDuration(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
