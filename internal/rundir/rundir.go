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

// Make creates or reuses stateDir's fallback directory for the calling
// process: the first of Fallbacks that it can create, or that exists as a
// real directory owned by the effective uid (its mode is then reset to
// 0700). A directory planted by someone else is never used.
func Make(stateDir string) (string, error) {
	var errs []error
	for _, dir := range Fallbacks(stateDir) {
		err := makeOne(dir)
		if err == nil {
			return dir, nil
		}
		errs = append(errs, err)
	}
	return "", errors.Join(errs...)
}

func makeOne(dir string) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
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
	if fi.Mode().Perm() != 0o700 {
		// Ours: a mode another umask left is put right. Chmod follows
		// links, so check again that the name still is our directory.
		if err := os.Chmod(dir, 0o700); err != nil {
			return err
		}
		return Check(dir, os.Geteuid())
	}
	return nil
}

// ErrNotTrusted is wrapped by the errors of Check and of the control
// client's checks: what holdfast found there may have been planted.
var ErrNotTrusted = errors.New("not trusted")

// Check verifies a fallback directory before a client uses it: a real
// directory owned by root or by one of uids, and not writable by group or
// others.
func Check(dir string, uids ...int) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	st := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() {
		return fmt.Errorf("refusing %s: not a directory (%v): %w", dir, fi.Mode().Type(), ErrNotTrusted)
	}
	if err := CheckOwner(dir, int(st.Uid), fi.Mode(), uids...); err != nil {
		return err
	}
	return nil
}

// CheckOwner is the rule for everything a client trusts: owned by root or
// by one of uids, and not writable by group or others.
func CheckOwner(path string, owner int, mode fs.FileMode, uids ...int) error {
	ok := owner == 0
	for _, u := range uids {
		ok = ok || owner == u
	}
	if !ok {
		return fmt.Errorf("refusing %s: owned by uid %d, not by root or uid %s: %w", path, owner, uidList(uids), ErrNotTrusted)
	}
	if mode.Perm()&0o022 != 0 {
		return fmt.Errorf("refusing %s: writable by group or others (mode %v): %w", path, mode.Perm(), ErrNotTrusted)
	}
	return nil
}

func uidList(uids []int) string {
	s := ""
	for i, u := range uids {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprint(u)
	}
	return s
}
