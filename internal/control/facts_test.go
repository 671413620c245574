package control

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"testing"
	"time"
)

// /v1/facts answers 404 until ServeFacts, then the function's value.
func TestFacts(t *testing.T) {
	_, c := serveFake(t, &fakeBackend{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var v map[string]string
	var api *APIError
	if err := c.Facts(ctx, &v); !errors.As(err, &api) || api.Status != http.StatusNotFound {
		t.Fatalf("without ServeFacts: %v, want a 404 APIError", err)
	}

	dir := t.TempDir()
	l, err := Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(&fakeBackend{}, slog.New(slog.DiscardHandler))
	s.ServeFacts(func() any { return map[string]string{"hostname": "shop-1"} })
	go s.Serve(l)
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	if err := NewClient(dir).Facts(ctx, &v); err != nil || v["hostname"] != "shop-1" {
		t.Fatalf("with ServeFacts: %v, %v", v, err)
	}
}
