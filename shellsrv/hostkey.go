package shellsrv

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"

	"github.com/holdfast-dev/holdfast/internal/safefs"
)

// loadOrCreateHostKey reads the host key at path, or creates an ed25519 one
// there (OpenSSH format, mode 0600) when none exists. gliderlabs' default is
// a new RSA key per start, which makes every client warn after a restart.
func loadOrCreateHostKey(path string, log *slog.Logger) (gossh.Signer, error) {
	if path == "" {
		return nil, errors.New("cannot start ssh server: no host key path")
	}
	signer, err := readHostKey(path, log)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return signer, err
	}
	if err := createHostKey(path); err != nil {
		return nil, err
	}
	log.Info("ssh host key created", "path", path)
	return readHostKey(path, log)
}

func readHostKey(path string, log *slog.Logger) (gossh.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("cannot read host key %s: %w", path, err)
	}
	signer, err := gossh.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("cannot parse host key %s: %w", path, err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		// sshd refuses such a key; a Kubernetes Secret volume defaults to
		// 0644, so warn instead of leaving the container without ssh.
		log.Warn("ssh host key is readable by others; use mode 0600", "path", path, "mode", fmt.Sprintf("%#o", fi.Mode().Perm()))
	}
	return signer, nil
}

// createHostKey writes a new key under a temporary name and links it into
// place, so that two holdfasts sharing a state dir never overwrite each
// other's key: the loser of the race reads the winner's.
func createHostKey(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create host key directory %s: %w", dir, err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("cannot generate host key: %w", err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "holdfast host key")
	if err != nil {
		return fmt.Errorf("cannot encode host key: %w", err)
	}
	// The key and its .pub are created beside each other in dir, never
	// through a link planted at either name.
	d, err := safefs.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("cannot open host key directory %s: %w", dir, err)
	}
	defer d.Close()
	base := filepath.Base(path)
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmpName := ".ssh_host_key-" + hex.EncodeToString(rnd[:])
	tmp, err := d.OpenFile(tmpName, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("cannot create host key %s: %w", path, err)
	}
	defer d.Remove(tmpName)
	if _, err := tmp.Write(pem.EncodeToMemory(block)); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write host key %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write host key %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cannot write host key %s: %w", tmp.Name(), err)
	}
	// linkat(2) neither follows tmpName nor replaces anything at base.
	if err := unix.Linkat(d.Fd(), tmpName, d.Fd(), base, 0); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil // another holdfast won the race; use its key
		}
		return fmt.Errorf("cannot create host key %s: %w", path, err)
	}
	// The public half next to it, as sshd keeps it, for known_hosts. A
	// link at its name is refused, not written through.
	if signer, err := gossh.NewSignerFromKey(priv); err == nil {
		if f, err := d.OpenFile(base+".pub", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644); err == nil {
			_, _ = f.Write(gossh.MarshalAuthorizedKey(signer.PublicKey()))
			f.Close()
		}
	}
	return nil
}
