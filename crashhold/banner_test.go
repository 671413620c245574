package crashhold

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/holdfast-dev/holdfast/internal/state"
	"github.com/holdfast-dev/holdfast/runrec"
)

// The banner names ssh only once the ssh server listens (AdvertiseSSH):
// with ssh off — no keys, the port taken, a host key that cannot be
// written — it must not send anyone to a port nothing answers on.
func TestBannerAdvertisesSSHOnlyWhenListening(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	s := New(Config{StateDir: t.TempDir()}, Deps{
		Records: runrec.Open(t.TempDir(), 5, log),
		Store:   state.NewStore(state.Snapshot{}),
		Logger:  log,
	})
	s.holdReason = state.ReasonManual
	if b := s.banner(); strings.Contains(b, "ssh -p") {
		t.Errorf("banner advertises ssh that is off:\n%s", b)
	}
	s.AdvertiseSSH("127.0.0.1:2222")
	if b := s.banner(); !strings.Contains(b, "ssh -p 2222 ") {
		t.Errorf("banner lacks the listening ssh server:\n%s", b)
	}
}
