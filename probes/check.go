package probes

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"sync"
	"syscall"
	"time"
)

// maxCheckBody is kubelet's limit on the probe body it reads
// (pkg/probe/http: maxRespBodyLength = 10 KiB).
const maxCheckBody = 10 << 10

// maxCheckRedirects is net/http's default, which kubelet keeps for same-host
// redirects.
const maxCheckRedirects = 10

// UserAgent is sent with every health check, as kubelet sends
// "kube-probe/<version>". cmd/holdfast may set it from its build version
// before the first check; the default comes from the module build info.
var UserAgent = "holdfast/" + buildVersion()

func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "devel"
}

var errTooManyRedirects = errors.New("stopped after 10 redirects")

// NewCheckClient returns the client CheckURL wants, configured like kubelet's
// prober (pkg/probe/http/http.go): no keep-alive, so each check sees a fresh
// connection as kubelet would; no compression; no proxy from the
// environment, because the app's health URL is local and an HTTP_PROXY meant
// for the app must not intercept it; TLS without verification, which is
// kubelet's documented behaviour for HTTPS probes; same-host redirects
// followed, other-host redirects returned as they are.
func NewCheckClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			Proxy:              nil,
			DialContext:        (&net.Dialer{}).DialContext,
			DisableKeepAlives:  true,
			DisableCompression: true,
			// #nosec G402 -- kubelet skips verification for HTTPS probes too; the
			// check asks "does the app answer", not "is this peer trusted".
			TLSClientConfig:        &tls.Config{InsecureSkipVerify: true},
			MaxResponseHeaderBytes: 64 << 10,
		},
		CheckRedirect: checkRedirect,
	}
}

// checkRedirect is kubelet's RedirectChecker(followNonLocalRedirects=false).
func checkRedirect(req *http.Request, via []*http.Request) error {
	if req.URL.Hostname() != via[0].URL.Hostname() {
		return http.ErrUseLastResponse
	}
	if len(via) >= maxCheckRedirects {
		return errTooManyRedirects
	}
	return nil
}

var defaultCheckClient = sync.OnceValue(NewCheckClient)

// CheckURL performs one health check of rawURL with kubelet's rules: GET,
// success for 200-399 (a redirect to another host is not followed and counts
// as success), at most 10 KiB of body read, the deadline taken from ctx. A nil
// client means a shared NewCheckClient(). detail is a short human reason:
// "HTTP 200", "HTTP 503", "connection refused", "timeout after 1s".
func CheckURL(ctx context.Context, client *http.Client, rawURL string) (ok bool, detail string) {
	if client == nil {
		client = defaultCheckClient()
	}
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return false, "cannot parse url: " + err.Error()
	}
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("Accept", "*/*")
	// Connection: close even with a caller's client that keeps connections.
	req.Close = true

	res, err := client.Do(req)
	if err != nil {
		return false, describeCheckError(ctx, err, start)
	}
	defer res.Body.Close()
	// Read at most 10 KiB and stop: an endless or huge body must not keep the
	// check (and the supervisor waiting on it) busy. Closing the body then
	// closes the connection, since it is never reused.
	if _, err := io.CopyN(io.Discard, res.Body, maxCheckBody); err != nil && err != io.EOF {
		return false, "cannot read body: " + describeCheckError(ctx, err, start)
	}
	code := res.StatusCode
	switch {
	case code >= 200 && code < 300:
		return true, fmt.Sprintf("HTTP %d", code)
	case code >= 300 && code < 400:
		return true, fmt.Sprintf("HTTP %d (redirect not followed)", code)
	}
	return false, fmt.Sprintf("HTTP %d", code)
}

// describeCheckError turns a client error into a few words. The url.Error
// wrapper repeats the method and URL the caller already knows.
func describeCheckError(ctx context.Context, err error, start time.Time) string {
	var ne net.Error
	var dns *net.DNSError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() == context.DeadlineExceeded ||
		errors.As(err, &ne) && ne.Timeout():
		d := time.Since(start)
		if dl, ok := ctx.Deadline(); ok {
			d = dl.Sub(start)
		}
		return "timeout after " + roundDuration(d).String()
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, errTooManyRedirects):
		return errTooManyRedirects.Error()
	case errors.As(err, &dns):
		return "cannot resolve host " + dns.Name
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	s := err.Error()
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// roundDuration gives back the timeout the caller set: the deadline was set
// before start was taken, so d falls short of it by however long the caller
// took in between (milliseconds on a loaded machine). d is rounded up to 10ms
// (100ms from 1s), so "200ms" reads as 200ms, not 199ms.
func roundDuration(d time.Duration) time.Duration {
	step := 10 * time.Millisecond
	if d >= time.Second-step {
		step = 100 * time.Millisecond
	}
	return ceilTo(d, step)
}

func ceilTo(d, step time.Duration) time.Duration {
	if r := d % step; r != 0 {
		d += step - r
	}
	return d
}
