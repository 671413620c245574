package shellsrv

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	gossh "golang.org/x/crypto/ssh"
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
	tmp, err := os.CreateTemp(dir, ".ssh_host_key-*") // mode 0600
	if err != nil {
		return fmt.Errorf("cannot create host key %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
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
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil // another holdfast won the race; use its key
		}
		return fmt.Errorf("cannot create host key %s: %w", path, err)
	}
	// The public half next to it, as sshd keeps it, for known_hosts.
	if signer, err := gossh.NewSignerFromKey(priv); err == nil {
		_ = os.WriteFile(path+".pub", gossh.MarshalAuthorizedKey(signer.PublicKey()), 0o644)
	}
	return nil
}
