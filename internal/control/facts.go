package control

import (
	"context"
	"net/http"
)

// ServeFacts makes GET /v1/facts answer with f's value as JSON: what
// `holdfast bundle` puts in facts.json and only the running holdfast knows
// (its flags, the app's argv and environment, filtered by f before they
// leave the process). Call it before Serve. Without it, /v1/facts answers
// 404 and the client makes do with what it knows itself.
func (s *Server) ServeFacts(f func() any) { s.facts = f }

func (s *Server) serveFacts(w http.ResponseWriter, _ *http.Request) {
	if s.facts == nil {
		writeJSON(w, http.StatusNotFound, errorBody{"this holdfast serves no facts"})
		return
	}
	writeJSON(w, http.StatusOK, s.facts())
}

// Facts fetches the facts of the running holdfast into v. A holdfast that
// serves none answers with an *APIError of status 404.
func (c *Client) Facts(ctx context.Context, v any) error {
	_, err := c.getJSON(ctx, http.MethodGet, "/v1/facts", v)
	return err
}
