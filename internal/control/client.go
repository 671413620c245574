package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/holdfast-dev/holdfast/runrec"
)

// ErrNotRunning means no holdfast answers on the state dir's socket.
var ErrNotRunning = errors.New("no holdfast is running")

// Client talks to a running holdfast, and only to one it can trust (see
// dial).
type Client struct {
	path string
	http *http.Client
}

// NewClient returns a client for the holdfast serving stateDir: its socket
// is in the state dir or in the state dir's fallback directory.
func NewClient(stateDir string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			c, err := dial(ctx, stateDir)
			if err != nil {
				return nil, &dialError{err}
			}
			return c, nil
		},
	}
	return &Client{path: filepath.Join(stateDir, SocketName), http: &http.Client{Transport: tr}}
}

// APIError is an error the server answered with.
type APIError struct {
	Status int
	Msg    string
}

func (e *APIError) Error() string { return e.Msg }

func (c *Client) do(ctx context.Context, method, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://holdfast"+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var de *dialError
		if errors.As(err, &de) {
			return nil, de.err
		}
		return nil, fmt.Errorf("cannot reach holdfast at %s: %w", c.path, err)
	}
	return resp, nil
}

// getJSON decodes a JSON answer into v; non-2xx answers become *APIError,
// except that an answer with the wantCodes status is decoded too.
func (c *Client) getJSON(ctx context.Context, method, path string, v any, okCodes ...int) (int, error) {
	resp, err := c.do(ctx, method, path)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("cannot read answer from %s: %w", c.path, err)
	}
	ok := resp.StatusCode/100 == 2
	for _, code := range okCodes {
		ok = ok || resp.StatusCode == code
	}
	if !ok {
		var e errorBody
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return resp.StatusCode, &APIError{resp.StatusCode, e.Error}
		}
		return resp.StatusCode, &APIError{resp.StatusCode, strings.TrimSpace(string(body))}
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			return resp.StatusCode, fmt.Errorf("cannot decode answer from %s: %w", c.path, err)
		}
	}
	return resp.StatusCode, nil
}

// Status fetches the status JSON into v (a state.Snapshot or a map).
func (c *Client) Status(ctx context.Context, v any) error {
	_, err := c.getJSON(ctx, http.MethodGet, "/v1/status", v)
	return err
}

// Runs fetches every kept run's record, oldest first.
func (c *Client) Runs(ctx context.Context) ([]runrec.RunRecord, error) {
	var runs []runrec.RunRecord
	if _, err := c.getJSON(ctx, http.MethodGet, "/v1/runs", &runs); err != nil {
		return nil, err
	}
	return runs, nil
}

// Action asks for restart, release, stop or hold.
func (c *Client) Action(ctx context.Context, action string) error {
	_, err := c.getJSON(ctx, http.MethodPost, "/v1/"+action, nil)
	return err
}

// Probe returns whether holdfast reports live or ready.
func (c *Client) Probe(ctx context.Context, which string) (bool, string, error) {
	var body struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	}
	code, err := c.getJSON(ctx, http.MethodGet, "/v1/probe/"+which, &body, http.StatusServiceUnavailable)
	if err != nil {
		return false, "", err
	}
	return code == http.StatusOK, body.Reason, nil
}

// Logs copies a run's output to w; with follow it keeps copying until the
// run's output ends or ctx is done.
func (c *Client) Logs(ctx context.Context, w io.Writer, run, tail int, follow bool) error {
	q := url.Values{}
	if run > 0 {
		q.Set("run", fmt.Sprint(run))
	}
	if tail > 0 {
		q.Set("tail", fmt.Sprint(tail))
	}
	if follow {
		q.Set("follow", "1")
	}
	resp, err := c.do(ctx, http.MethodGet, "/v1/logs?"+q.Encode())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e errorBody
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return &APIError{resp.StatusCode, e.Error}
		}
		return &APIError{resp.StatusCode, strings.TrimSpace(string(body))}
	}
	_, err = io.Copy(w, resp.Body)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// defaultTimeout bounds one non-streaming request.
const defaultTimeout = 30 * time.Second

// WithTimeout is a context for one non-streaming request.
func WithTimeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), defaultTimeout)
}
