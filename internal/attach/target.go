package attach

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Target is what the package learns about a process before it attaches.
type Target struct {
	PID   int    // the pid in our namespace
	NSPid int    // the pid the JVM knows itself by (last NSpid field)
	UID   uint32 // effective uid
	GID   uint32 // effective gid
	State byte   // R, S, D, T, t, Z, …

	// CatchesQuit: the process handles SIGQUIT, so it survives one.
	CatchesQuit bool
	// Capabilities is sun.rt.jvmCapabilities from the JVM's hsperfdata
	// ("" when the JVM keeps none, e.g. -XX:-UsePerfData).
	Capabilities string
}

// procRoot is /proc; tests of pure logic do not change it.
const procRoot = "/proc"

func (t *Target) procPath(parts ...string) string {
	return filepath.Join(append([]string{procRoot, strconv.Itoa(t.PID)}, parts...)...)
}

// tmpDir is the JVM's /tmp as seen from here.
func (t *Target) tmpDir() string { return t.procPath("root", "tmp") }

func (t *Target) socketName() string  { return ".java_pid" + strconv.Itoa(t.NSPid) }
func (t *Target) triggerName() string { return ".attach_pid" + strconv.Itoa(t.NSPid) }

// inspectStatus reads /proc/<pid>/status, which anyone may, and refuses a
// caller the JVM would refuse.
func inspectStatus(pid int) (*Target, error) {
	if pid <= 0 {
		return nil, newError(pid, ErrNoProcess, nil, "not a valid pid")
	}
	t := &Target{PID: pid}
	status, err := os.ReadFile(t.procPath("status"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errESRCH) {
			return nil, newError(pid, ErrNoProcess, nil, "")
		}
		return nil, newError(pid, ErrProtocol, err, "reading its status")
	}
	if err := t.parseStatus(status); err != nil {
		return nil, newError(pid, ErrProtocol, err, "parsing its status")
	}
	if t.State == 'Z' || t.State == 'X' {
		return nil, newError(pid, ErrNoProcess, nil, "it has exited (zombie)")
	}
	return t, checkCaller(t)
}

// checkMaps checks the contents of /proc/<pid>/maps, or the error reading
// it (reading needs the JVM's user or CAP_SYS_PTRACE).
func (t *Target) checkMaps(maps []byte, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, errESRCH):
		return newError(t.PID, ErrNoProcess, nil, "")
	case errors.Is(err, fs.ErrPermission):
		return newError(t.PID, ErrPermission, err, "reading its memory maps")
	case err != nil:
		return newError(t.PID, ErrProtocol, err, "reading its memory maps")
	}
	return checkHotSpot(t.PID, maps)
}

// checkCapabilities reads the JVM's capabilities from its hsperfdata
// under tmp, its /tmp, and fails when they say attach is off. Without
// hsperfdata it looks for the flag in the JVM's command line and
// environment (the environment is readable as the JVM's user or root).
func (t *Target) checkCapabilities(tmp string) error {
	t.Capabilities = t.readCapabilities(tmp)
	if t.Capabilities != "" {
		if t.Capabilities[0] != '1' {
			return newError(t.PID, ErrDisabled, nil, "its hsperfdata says so (-XX:+DisableAttachMechanism)")
		}
		return nil
	}
	cmdline, _ := os.ReadFile(t.procPath("cmdline"))
	environ, _ := os.ReadFile(t.procPath("environ"))
	if disabledByFlags(cmdline, environ) {
		return newError(t.PID, ErrDisabled, nil, "its flags say so (-XX:+DisableAttachMechanism)")
	}
	return nil
}

// parseStatus reads State, Uid, Gid, NSpid and SigCgt of /proc/<pid>/status.
func (t *Target) parseStatus(b []byte) error {
	var seen int
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(value)
		if len(fields) == 0 {
			continue
		}
		switch key {
		case "State":
			t.State = fields[0][0]
			seen++
		case "Uid", "Gid":
			// real, effective, saved, filesystem
			if len(fields) < 2 {
				return fmt.Errorf("%s: %q", key, value)
			}
			id, err := strconv.ParseUint(fields[1], 10, 32)
			if err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
			if key == "Uid" {
				t.UID = uint32(id)
			} else {
				t.GID = uint32(id)
			}
			seen++
		case "NSpid":
			n, err := strconv.Atoi(fields[len(fields)-1])
			if err != nil {
				return fmt.Errorf("NSpid: %w", err)
			}
			t.NSPid = n
		case "SigCgt":
			mask, err := strconv.ParseUint(fields[0], 16, 64)
			if err != nil {
				return fmt.Errorf("SigCgt: %w", err)
			}
			t.CatchesQuit = mask&(1<<(sigQuit-1)) != 0
			seen++
		}
	}
	if seen < 4 {
		return errors.New("status lacks State, Uid, Gid or SigCgt")
	}
	if t.NSPid == 0 {
		// A kernel before 4.1 has no NSpid: no pid namespaces to see
		// through, or none we can tell apart.
		t.NSPid = t.PID
	}
	return nil
}

// checkHotSpot decides from the mapped files whether the process is a JVM
// and whether it is HotSpot. OpenJ9 also ships a libjvm.so (a redirector to
// libj9vm), so its own library is looked for first.
func checkHotSpot(pid int, maps []byte) error {
	var jvm, j9 bool
	sc := bufio.NewScanner(bytes.NewReader(maps))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 {
			continue
		}
		base := filepath.Base(fields[len(fields)-1])
		switch {
		case base == "libjvm.so":
			jvm = true
		case strings.HasPrefix(base, "libj9vm"):
			j9 = true
		}
	}
	switch {
	case j9:
		return newError(pid, ErrNotHotSpot, nil, "it maps OpenJ9's libj9vm")
	case !jvm:
		return newError(pid, ErrNotJVM, nil, "no libjvm.so mapped")
	}
	return nil
}

// readCapabilities finds the JVM's hsperfdata file (hsperfdata_<user>/
// <nspid> in its /tmp; the user name is the container's, so every user
// directory is tried) and reads sun.rt.jvmCapabilities from it.
func (t *Target) readCapabilities(tmp string) string {
	matches, _ := filepath.Glob(filepath.Join(tmp, "hsperfdata_*", strconv.Itoa(t.NSPid)))
	for _, m := range matches {
		// A stale file of a former process with the same pid may sit in
		// another user's directory; the JVM's own is its euid's.
		if fi, err := os.Stat(m); err != nil || !ownedBy(fi, t.UID) {
			continue
		}
		b, err := os.ReadFile(m)
		if err != nil {
			continue
		}
		if c, err := perfString(b, "sun.rt.jvmCapabilities"); err == nil {
			return c
		}
	}
	return ""
}
