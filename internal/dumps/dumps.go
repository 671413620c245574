package dumps

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/holdfast-dev/holdfast/internal/attach"
	"github.com/holdfast-dev/holdfast/internal/safefs"
	"github.com/holdfast-dev/holdfast/internal/statedir"
)

// Kind is one kind of dump.
type Kind string

const (
	Threads   Kind = "threads"   // Thread.print -l: every thread's stack, locks, deadlocks
	Histogram Kind = "histogram" // GC.class_histogram: live objects by class
	Heap      Kind = "heap"      // GC.heap_dump: an HPROF file of the heap
	JFR       Kind = "jfr"       // JFR.start, then JFR.dump
)

// Kinds are the kinds, in the order the CLI lists them.
var Kinds = []Kind{Threads, Heap, Histogram, JFR}

// ParseKind checks a kind's name.
func ParseKind(s string) (Kind, error) {
	if k := Kind(s); slices.Contains(Kinds, k) {
		return k, nil
	}
	return "", fmt.Errorf("unknown dump %q; want threads, heap, histogram or jfr", s)
}

// Place is where one run's dumps go.
type Place struct {
	// RunDir is the run's dir, holdfast's own: text dumps go there.
	RunDir string
	// AppDir is the run's jvm/ dir, the app's, as the JVM sees it: heap
	// dumps and JFR recordings go there; "" when the run has none (the
	// JVM evidence flags are off).
	AppDir string
}

// Result is what one dump left.
type Result struct {
	Path string // the file written; "" when none (a JFR recording was started)
	Note string // one line on what happened
}

// MaxText bounds a text dump: a JVM with a runaway number of threads or
// classes must not fill the state dir.
const MaxText = 256 << 20

// RecordingName is the name of the JFR recording holdfast starts.
const RecordingName = "holdfast"

// recordingLimits bound the JFR recording holdfast starts.
const recordingLimits = "maxage=6h maxsize=256m"

// heapBusy is held while a heap dump is written.
var heapBusy sync.Mutex

// ErrBusy refuses a heap dump while another is written.
var ErrBusy = errors.New("a heap dump is already being written")

// Take takes one dump of the JVM pid into p.
func Take(ctx context.Context, pid int, kind Kind, p Place) (Result, error) {
	switch kind {
	case Threads:
		return takeText(ctx, pid, p, "threads", "Thread.print -l")
	case Histogram:
		return takeText(ctx, pid, p, "histogram", "GC.class_histogram")
	case Heap:
		return takeHeap(ctx, pid, p)
	case JFR:
		return takeJFR(ctx, pid, p)
	}
	_, err := ParseKind(string(kind))
	return Result{}, err
}

// stamp is the time part of a dump's name.
func stamp(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// names yields candidate file names prefix-<time>[-n].ext, the first one
// first; a dump taken in the same second gets the next number.
func names(prefix, ext string) func(i int) string {
	base := prefix + "-" + stamp(time.Now())
	return func(i int) string {
		if i == 0 {
			return base + ext
		}
		return fmt.Sprintf("%s-%d%s", base, i+1, ext)
	}
}

// maxTries bounds the search for a free name.
const maxTries = 100

// takeText runs a diagnostic command and writes its output into a new
// file in the run dir.
func takeText(ctx context.Context, pid int, p Place, prefix, cmd string) (Result, error) {
	if p.RunDir == "" {
		return Result{}, errors.New("the run has no run dir (the state dir is not writable)")
	}
	dir, err := safefs.OpenRoot(p.RunDir)
	if err != nil {
		return Result{}, fmt.Errorf("cannot open the run dir: %w", err)
	}
	defer dir.Close()
	// Written under a dot name (never an artifact) and renamed when
	// complete: a file under the final name is always a whole dump.
	f, tmp, err := createIn(dir, func(int) string { return ".dump-" + randomSuffix() })
	if err != nil {
		return Result{}, err
	}
	lw := &limitWriter{w: f, left: MaxText}
	err = attach.Run(ctx, pid, attach.Jcmd(cmd), lw)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("cannot write %s: %w", tmp, cerr)
	}
	if err == nil && lw.n == 0 {
		err = fmt.Errorf("the JVM sent no output for %s", cmd)
	}
	var name string
	if err == nil {
		name, err = renameFree(dir, tmp, names(prefix, ".txt"))
	}
	if err != nil {
		_ = dir.Remove(tmp)
		return Result{}, err
	}
	path := filepath.Join(p.RunDir, name)
	return Result{Path: path, Note: fmt.Sprintf("%s of pid %d, %d bytes", cmd, pid, lw.n)}, nil
}

// createIn creates the first free name of next in dir, never opening an
// existing file or a link.
func createIn(dir *safefs.Dir, next func(int) string) (*os.File, string, error) {
	var err error
	for i := range maxTries {
		name := next(i)
		var f *os.File
		f, err = dir.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, statedir.RecordMode)
		if err == nil {
			return f, name, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	return nil, "", fmt.Errorf("cannot create a dump file in %s: %w", dir.Name(), err)
}

// renameFree renames tmp in dir to the first name of next that is free,
// never replacing a file.
func renameFree(dir *safefs.Dir, tmp string, next func(int) string) (string, error) {
	var err error
	for i := range maxTries {
		name := next(i)
		err = unix.Renameat2(dir.Fd(), tmp, dir.Fd(), name, unix.RENAME_NOREPLACE)
		if err == unix.EINVAL || err == unix.ENOSYS {
			// A file system without RENAME_NOREPLACE: link(2) never
			// replaces either.
			if err = unix.Linkat(dir.Fd(), tmp, dir.Fd(), name, 0); err == nil {
				_ = unix.Unlinkat(dir.Fd(), tmp, 0)
			}
		}
		if err == nil {
			return name, nil
		}
		if err != unix.EEXIST {
			break
		}
	}
	return "", fmt.Errorf("cannot name the dump in %s: %w", dir.Name(), err)
}

func randomSuffix() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// freeIn returns the first name of next that does not exist in dir.
func freeIn(dir *safefs.Dir, next func(int) string) (string, error) {
	for i := range maxTries {
		name := next(i)
		if _, err := dir.Lstat(name); errors.Is(err, fs.ErrNotExist) {
			return name, nil
		} else if err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("no free name in %s", dir.Name())
}

// openAppDir opens the run's jvm/ dir for the files the JVM pid writes.
func openAppDir(pid int, p Place, what string) (*safefs.Dir, error) {
	if !sameRoot(pid) {
		return nil, fmt.Errorf("pid %d has a root file system of its own: it cannot write a %s into the run's jvm/ dir", pid, what)
	}
	if p.AppDir == "" {
		return nil, fmt.Errorf("the run has no jvm/ dir for the JVM to write a %s into (the JVM evidence flags are off: --jvm)", what)
	}
	d, err := safefs.OpenRoot(p.AppDir)
	if err != nil {
		return nil, fmt.Errorf("cannot open the run's jvm/ dir: %w", err)
	}
	return d, nil
}

// heapMagic starts every HPROF file.
const heapMagic = "JAVA PROFILE 1.0."

func takeHeap(ctx context.Context, pid int, p Place) (Result, error) {
	if !heapBusy.TryLock() {
		return Result{}, ErrBusy
	}
	defer heapBusy.Unlock()
	dir, err := openAppDir(pid, p, "heap dump")
	if err != nil {
		return Result{}, err
	}
	defer dir.Close()
	name, err := freeIn(dir, names("heap", ".hprof"))
	if err != nil {
		return Result{}, err
	}
	path := filepath.Join(p.AppDir, name)
	var out bytes.Buffer
	if err := attach.Run(ctx, pid, attach.Jcmd("GC.heap_dump "+path), &limitWriter{w: &out, left: 64 << 10}); err != nil {
		return Result{}, err
	}
	if err := checkWritten(dir, name, heapMagic, &out); err != nil {
		return Result{}, err
	}
	return Result{Path: path, Note: lastLine(out.String())}, nil
}

// checkWritten checks that the JVM wrote name in dir: a regular file that
// starts with magic. The JVM reports a failure only in its output, which
// the error then quotes.
func checkWritten(dir *safefs.Dir, name, magic string, out *bytes.Buffer) error {
	f, err := dir.Open(name)
	if err != nil {
		if msg := lastLine(out.String()); msg != "" {
			return fmt.Errorf("the JVM wrote no %s: %s", name, msg)
		}
		return fmt.Errorf("the JVM wrote no %s: %w", name, err)
	}
	defer f.Close()
	head := make([]byte, len(magic))
	if _, err := io.ReadFull(f, head); err != nil || string(head) != magic {
		return fmt.Errorf("%s is not what the JVM should have written (it does not start with %q)", name, magic)
	}
	return nil
}

// jfrMagic starts every JFR chunk.
const jfrMagic = "FLR\x00"

func takeJFR(ctx context.Context, pid int, p Place) (Result, error) {
	dir, err := openAppDir(pid, p, "JFR recording")
	if err != nil {
		return Result{}, err
	}
	defer dir.Close()
	var out bytes.Buffer
	if err := jcmd(ctx, pid, "JFR.check name="+RecordingName, &out); err != nil {
		return Result{}, err
	}
	if !strings.Contains(out.String(), "name="+RecordingName) {
		out.Reset()
		if err := jcmd(ctx, pid, "JFR.start name="+RecordingName+" "+recordingLimits, &out); err != nil {
			return Result{}, err
		}
		if !strings.Contains(out.String(), "Started recording") {
			return Result{}, fmt.Errorf("the JVM did not start a JFR recording: %s", firstLine(out.String()))
		}
		return Result{Note: fmt.Sprintf("started JFR recording %q (%s); dump it with `holdfast dump jfr` again", RecordingName, recordingLimits)}, nil
	}
	name, err := freeIn(dir, names("recording", ".jfr"))
	if err != nil {
		return Result{}, err
	}
	path := filepath.Join(p.AppDir, name)
	out.Reset()
	if err := jcmd(ctx, pid, "JFR.dump name="+RecordingName+" filename="+path, &out); err != nil {
		return Result{}, err
	}
	if err := checkWritten(dir, name, jfrMagic, &out); err != nil {
		return Result{}, err
	}
	return Result{Path: path, Note: firstLine(out.String())}, nil
}

// jcmd runs one diagnostic command, its output (bounded) into out.
func jcmd(ctx context.Context, pid int, line string, out *bytes.Buffer) error {
	return attach.Run(ctx, pid, attach.Jcmd(line), &limitWriter{w: out, left: 64 << 10})
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	return s[strings.LastIndexByte(s, '\n')+1:]
}

// errTooLong ends a text dump longer than its bound.
var errTooLong = fmt.Errorf("the output is longer than %d MiB", MaxText>>20)

// limitWriter passes at most left bytes on and fails after that.
type limitWriter struct {
	w    io.Writer
	left int64
	n    int64
}

func (l *limitWriter) Write(b []byte) (int, error) {
	if int64(len(b)) > l.left {
		return 0, errTooLong
	}
	n, err := l.w.Write(b)
	l.left -= int64(n)
	l.n += int64(n)
	return n, err
}

// sameRoot reports whether pid sees the file system as this process does,
// so that a path holdfast names is the file the JVM writes.
func sameRoot(pid int) bool {
	var mine, its unix.Stat_t
	if unix.Stat("/proc/self/root/", &mine) != nil || unix.Stat(fmt.Sprintf("/proc/%d/root/", pid), &its) != nil {
		return true // cannot tell (its root is behind a ptrace check): assume the usual
	}
	return mine.Dev == its.Dev && mine.Ino == its.Ino
}
