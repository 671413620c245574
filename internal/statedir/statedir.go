package statedir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/holdfast-dev/holdfast/internal/safefs"
)

// Modes of what holdfast creates under the state dir.
const (
	DirMode    os.FileMode = 0o755 // the state dir, runs/, each run dir
	RecordMode os.FileMode = 0o600 // run.json, output.log: may hold secrets
	AppDirMode os.FileMode = 0o700 // runs/<N>/jvm/, owned by the app's uid
)

// RunsDir is the name of the run records dir in the state dir.
const RunsDir = "runs"

// UnsafeError is a state dir that the app could write into while holdfast
// cannot fix it. The entrypoint refuses to start (exit 2) on it.
type UnsafeError struct {
	Path   string
	Reason string
}

func (e *UnsafeError) Error() string {
	return fmt.Sprintf("unsafe state dir %s: %s", e.Path, e.Reason)
}

// Prepare creates the state dir when missing and secures it and its runs/
// dir: owned by holdfast's effective uid, not writable by group or others
// (the modes are fixed where holdfast owns them). app is the credential the
// app runs with (nil: holdfast's own). When a dir is not holdfast's and the
// app runs as another uid, Prepare returns an *UnsafeError naming it. Any
// other error (a read-only or missing mount) is for the caller to log:
// records then stay in memory.
func Prepare(path string, app *syscall.Credential) error {
	if err := os.MkdirAll(path, DirMode); err != nil {
		return err
	}
	d, err := safefs.OpenRoot(path)
	if err != nil {
		return err
	}
	defer d.Close()
	var sfs unix.Statfs_t
	if unix.Fstatfs(d.Fd(), &sfs) == nil && sfs.Flags&unix.ST_RDONLY != 0 {
		return nil // nobody writes there: nothing to guard, nothing to fix
	}
	boundary := app != nil && int(app.Uid) != os.Geteuid()
	if err := secure(d, d.Name(), boundary); err != nil {
		return err
	}
	st, err := d.Lstat(RunsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		if boundary {
			return &UnsafeError{Path: d.Name() + "/" + RunsDir, Reason: "not a directory (a link or file); holdfast never follows it: remove it"}
		}
		return nil // runrec refuses it and keeps records in memory
	}
	runs, err := d.OpenDir(RunsDir)
	if err != nil {
		return err
	}
	defer runs.Close()
	if err := secure(runs, runs.Name(), boundary); err != nil {
		return err
	}
	if boundary {
		reclaimRunDirs(runs)
	}
	return nil
}

// reclaimRunDirs takes back the run dirs an older holdfast handed to the
// app's user (it chowned each run dir to it), so that the app cannot delete
// or replace their records. Only real directories are touched, through
// descriptors opened without following links; what is in them is not.
func reclaimRunDirs(runs *safefs.Dir) {
	euid, egid := os.Geteuid(), os.Getegid()
	entries, err := runs.ReadDir()
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := strconv.Atoi(e.Name); err != nil {
			continue
		}
		rd, err := runs.OpenDir(e.Name)
		if err != nil {
			continue
		}
		if st, err := rd.Stat(); err == nil && (int(st.Uid) != euid || st.Mode&0o022 != 0) {
			_ = unix.Fchown(rd.Fd(), euid, egid)
			_ = unix.Fchmod(rd.Fd(), uint32(DirMode))
		}
		rd.Close()
	}
}

// secure checks one directory that holdfast writes in.
func secure(d *safefs.Dir, name string, boundary bool) error {
	st, err := d.Stat()
	if err != nil {
		return err
	}
	euid := os.Geteuid()
	if int(st.Uid) == euid {
		if st.Mode&0o022 != 0 {
			if err := unix.Fchmod(d.Fd(), st.Mode&0o7777&^0o022); err != nil {
				if boundary {
					return &UnsafeError{Path: name, Reason: fmt.Sprintf("mode %#o is writable by others and cannot be fixed: %v", st.Mode&0o777, err)}
				}
			}
		}
		return nil
	}
	if !boundary {
		return nil
	}
	return &UnsafeError{Path: name, Reason: fmt.Sprintf(
		"owned by uid %d, not by holdfast's uid %d, while the app runs as another uid: "+
			"whoever owns it could replace what holdfast writes there; chown it to uid %d, or use another --state-dir",
		st.Uid, euid, euid)}
}
