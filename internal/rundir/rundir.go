package rundir

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// bases are the parents of the fallback directory, in the order the
// entrypoint tries them and a client looks.
var bases = []string{"/run", "/tmp"}

// Key names stateDir's fallback directory: 16 hex digits of the SHA-256 of
// its absolute, cleaned path.
func Key(stateDir string) string {
	abs, err := filepath.Abs(stateDir)
	if err != nil {
		abs = filepath.Clean(stateDir)
	}
	sum := sha256.Sum256([]byte(abs))
	return hex.EncodeToString(sum[:8])
}

// Fallbacks are the fallback directories of stateDir, in the order Make
// tries them and a client looks.
func Fallbacks(stateDir string) []string {
	out := make([]string, len(bases))
	for i, b := range bases {
		out[i] = filepath.Join(b, "holdfast-"+Key(stateDir))
	}
	return out
}

// The modes Make gives the fallback directory.
const (
	// Private lets only holdfast's uid in.
	Private fs.FileMode = 0o700
	// Reachable also lets other uids reach a file in it by its name (the
	// control socket, when holdfast shares it with the app's user); they
	// can neither list the directory nor create anything in it.
	Reachable fs.FileMode = 0o711
)

// Make creates or reuses stateDir's fallback directory for the calling
// process, with mode (Private or Reachable): the first of Fallbacks that it
// can create, or that exists as a real directory owned by the effective uid
// (its mode is then reset to mode). A directory planted by someone else is
// never used.
func Make(stateDir string, mode fs.FileMode) (string, error) {
	if mode != Private && mode != Reachable {
		return "", fmt.Errorf("fallback directory mode %v: want %v or %v", mode, Private, Reachable)
	}
	var errs []error
	for _, dir := range Fallbacks(stateDir) {
		err := makeOne(dir, mode)
		if err == nil {
			return dir, nil
		}
		errs = append(errs, err)
	}
	return "", errors.Join(errs...)
}

func makeOne(dir string, mode fs.FileMode) error {
	if err := os.Mkdir(dir, Private); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st := fi.Sys().(*syscall.Stat_t)
	switch euid := os.Geteuid(); {
	case !fi.IsDir():
		return fmt.Errorf("refusing %s: not a directory (%v)", dir, fi.Mode().Type())
	case int(st.Uid) != euid:
		return fmt.Errorf("refusing %s: owned by uid %d, not by holdfast's uid %d (planted by someone else?)", dir, st.Uid, euid)
	}
	if fi.Mode().Perm() != mode {
		// Ours: a mode another umask or run left is put right. Chmod
		// follows links, so check again that the name still is our
		// directory.
		if err := os.Chmod(dir, mode); err != nil {
			return err
		}
		return Check(dir, os.Geteuid())
	}
	return nil
}

// ErrNotTrusted matches (errors.Is) the errors of Check, CheckOwner and
// the control client's checks: what holdfast found there may have been
// planted.
var ErrNotTrusted = errors.New("not trusted")

// untrustedError is a refusal; its message stands alone.
type untrustedError struct{ msg string }

func (e *untrustedError) Error() string        { return e.msg }
func (e *untrustedError) Is(target error) bool { return target == ErrNotTrusted }

// Refuse is a refusal of something that may have been planted: an error
// that matches ErrNotTrusted.
func Refuse(format string, a ...any) error {
	return &untrustedError{fmt.Sprintf("refusing "+format, a...)}
}

// Check verifies a fallback directory before a client of uid caller uses
// it: a real directory owned by root or by caller, and not writable by group
// or others (Reachable passes: it has no write bit but the owner's).
func Check(dir string, caller int) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() {
		return Refuse("%s: not a directory (%v)", dir, fi.Mode().Type())
	}
	if err := CheckOwner(dir, int(st.Uid), fi.Mode(), caller); err != nil {
		return err
	}
	return nil
}

// CheckOwner is the rule for everything a client trusts: owned by root or
// by the caller's uid, and not writable by group or others.
func CheckOwner(path string, owner int, mode fs.FileMode, caller int) error {
	switch {
	case owner != 0 && owner != caller && caller == 0:
		return Refuse("%s: it belongs to uid %d, not to root (if holdfast runs as uid %d, run this command as that uid)", path, owner, owner)
	case owner != 0 && owner != caller:
		return Refuse("%s: it belongs to uid %d, not to root or to you (uid %d)", path, owner, caller)
	case mode.Perm()&0o022 != 0:
		return Refuse("%s: writable by group or others (mode %v)", path, mode.Perm())
	}
	return nil
}

// CheckSocket is CheckOwner for the control socket itself, which may also
// be writable by its group: a write bit on a socket grants connect(2), not
// replacement (that needs the directory, which CheckOwner holds to the
// strict rule), and the server still decides whom it answers. Writable by
// others is refused.
func CheckSocket(path string, owner int, mode fs.FileMode, caller int) error {
	if mode.Perm()&0o002 != 0 {
		return Refuse("%s: writable by others (mode %v)", path, mode.Perm())
	}
	return CheckOwner(path, owner, mode&^0o020, caller)
}
