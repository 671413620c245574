package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/holdfast-dev/holdfast/internal/padcopy"
)

// Options are the inputs of one bundle.
type Options struct {
	// Status is status.json: the snapshot as `holdfast status --json` gives it.
	Status []byte
	// Runs is the runs list (the runs holdfast keeps), oldest first.
	Runs []Run
	// RunsDir is <state-dir>/runs; "" when records are kept in memory only.
	RunsDir string
	Select  Selection
	// WithHeap includes heap dumps (*.hprof); without it they are listed
	// with their sizes in SUMMARY.txt.
	WithHeap bool
	Facts    Facts
	// Now names the top directory and dates the entries that are not files
	// of a run dir; zero: time.Now().
	Now time.Time
	// Fetch, when set, gives a file of a run dir that this process may not
	// open (EACCES: run.json and output.log are holdfast's, mode 0600, and
	// `holdfast bundle` may run as the app's user) from somewhere else, the
	// running holdfast; size is what the reader gives.
	Fetch func(run int, name string) (r io.ReadCloser, size int64, err error)
}

// Result says what Write put in and left out.
type Result struct {
	Files    int      // files in the archive, MANIFEST included
	Bytes    int64    // their sizes, before compression
	Runs     []int    // runs bundled
	LeftOut  []string // one line each: path, size, why
	Warnings []string // files that changed or vanished while read
}

// Write streams the bundle to w: a gzip-compressed tar (see the package
// doc). Memory stays constant whatever the files' sizes: each is copied
// and hashed as it is read. An error of w ends the bundle; a file of a run
// dir that cannot be read is listed in SUMMARY.txt and the bundle goes on.
func Write(w io.Writer, o Options) (Result, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	gz, _ := gzip.NewWriterLevel(w, gzip.DefaultCompression)
	b := &builder{o: o, tw: tar.NewWriter(gz), top: TopDir(o.Now), sum: sha256.New(),
		buf: make([]byte, 64<<10)}
	err := b.write()
	if err == nil {
		err = b.tw.Close()
	}
	if err == nil {
		err = gz.Close()
	}
	return b.res, err
}

// TopDir is the archive's one top directory for a bundle made at t.
func TopDir(t time.Time) string {
	return "holdfast-bundle-" + t.UTC().Format("20060102T150405Z")
}

// ManifestName and SummaryName are the bundle's own files.
const (
	ManifestName = "MANIFEST"
	SummaryName  = "SUMMARY.txt"
)

type builder struct {
	o        Options
	tw       *tar.Writer
	top      string
	sum      hash.Hash
	buf      []byte
	manifest bytes.Buffer
	res      Result
}

func (b *builder) write() error {
	// Everything that can refuse the bundle comes before its first byte.
	nums, err := b.o.Select.pick(b.o.Runs, b.diskRuns())
	if err != nil {
		return err
	}
	runsJSON, err := runsJSON(b.o.Runs)
	if err != nil {
		return err
	}
	facts, err := json.MarshalIndent(b.o.Facts, "", "  ")
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{"status.json", b.o.Status}, {"runs.json", runsJSON}, {"facts.json", facts}} {
		if err := b.addBytes(f.name, f.data); err != nil {
			return err
		}
	}
	for _, n := range nums {
		if err := b.addRun(n); err != nil {
			return err
		}
		b.res.Runs = append(b.res.Runs, n)
	}
	if err := b.addBytes(SummaryName, b.summary()); err != nil {
		return err
	}
	b.res.Files++
	b.res.Bytes += int64(b.manifest.Len())
	return b.header(ManifestName, int64(b.manifest.Len()), 0o644, b.o.Now, b.manifest.Bytes())
}

// diskRuns lists the canonical run numbers under RunsDir.
func (b *builder) diskRuns() []int {
	if b.o.RunsDir == "" {
		return nil
	}
	f, err := os.Open(b.o.RunsDir)
	if err != nil {
		return nil
	}
	defer f.Close()
	all, _, _ := names(f, 100000)
	var out []int
	for _, name := range all {
		if n, err := strconv.Atoi(name); err == nil && n > 0 && strconv.Itoa(n) == name {
			out = append(out, n)
		}
	}
	return out
}

// addRun adds runs/<n>/: the run dir's files, or the record alone when the
// run has no dir on disk.
func (b *builder) addRun(n int) error {
	rel := "runs/" + strconv.Itoa(n) + "/"
	var root *os.File
	var err error
	if b.o.RunsDir != "" {
		var parent *os.File
		if parent, err = os.Open(b.o.RunsDir); err == nil {
			root, err = openDirAt(int(parent.Fd()), strconv.Itoa(n))
			parent.Close()
		}
	} else {
		err = errors.New("records kept in memory only")
	}
	if err != nil {
		why := "no run dir: " + explain(err)
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
			why = "run dir is a symbolic link or not a directory; not followed"
		}
		b.leftOut(rel, -1, why)
		if rec := b.record(n); rec != nil {
			return b.addBytes(rel+"run.json", rec)
		}
		return nil
	}
	defer root.Close()
	budget := maxEntries
	return b.walk(root, rel, 0, &budget)
}

// record is the run's record from the runs list, for a run without a dir.
func (b *builder) record(n int) []byte {
	for _, r := range b.o.Runs {
		if r.Run == n {
			if rec, err := recordJSON(r); err == nil {
				return rec
			}
		}
	}
	return nil
}

// walk adds the files of d (opened without following links) under rel.
func (b *builder) walk(d *os.File, rel string, depth int, budget *int) error {
	list, more, _ := names(d, *budget)
	*budget -= len(list)
	if more {
		b.leftOut(rel, -1, fmt.Sprintf("more than %d entries in the run dir; the rest is not listed", maxEntries))
	}
	fd := int(d.Fd())
	for _, name := range list {
		st, err := lstatAt(fd, name)
		if err != nil {
			b.warn(rel+name, "vanished while read: "+explain(err))
			continue
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			if depth >= maxDepth || *budget <= 0 {
				b.leftOut(rel+name+"/", -1, "directory too deep or run dir too large; not read")
				continue
			}
			sub, err := openDirAt(fd, name)
			if err != nil {
				b.leftOut(rel+name+"/", -1, "cannot open: "+explain(err))
				continue
			}
			err = b.walk(sub, rel+name+"/", depth+1, budget)
			sub.Close()
			if err != nil {
				return err
			}
		case unix.S_IFLNK:
			b.leftOut(rel+name, -1, "symbolic link to "+strconv.Quote(readlinkAt(fd, name))+"; not followed")
		case unix.S_IFREG:
			if ok, why := verdict(name, st.Size, b.o.WithHeap); !ok {
				b.leftOut(rel+name, st.Size, why)
				continue
			}
			if err := b.addFile(fd, name, rel+name); err != nil {
				return err
			}
		default:
			b.leftOut(rel+name, -1, typeName(st.Mode)+"; not read")
		}
	}
	return nil
}

// addFile copies one regular file, opened without following a link. The
// size is the one at open: a file that grows (a live output.log) is cut
// there, one that shrinks is padded with zeros; both are reported.
func (b *builder) addFile(dirfd int, name, rel string) error {
	f, st, err := openFileAt(dirfd, name)
	if errors.Is(err, unix.EACCES) && b.o.Fetch != nil {
		if done, err := b.addFetched(dirfd, name, rel); done {
			return err
		}
	}
	if err != nil {
		b.leftOut(rel, -1, "cannot open: "+explain(err))
		return nil
	}
	defer f.Close()
	if afterOpen != nil {
		afterOpen(rel)
	}
	if err := b.copyEntry(rel, st, f); err != nil {
		return err
	}
	if fi, err := f.Stat(); err == nil && fi.Size() > st.Size {
		b.warn(rel, fmt.Sprintf("grew while read; bundled its first %d bytes", st.Size))
	}
	return nil
}

// addFetched adds a file this process may not open through Fetch, with
// the mode and mtime the run dir shows. It reports false when Fetch has
// no such file either.
func (b *builder) addFetched(dirfd int, name, rel string) (bool, error) {
	run, file, ok := strings.Cut(strings.TrimPrefix(rel, "runs/"), "/")
	n, err := strconv.Atoi(run)
	if !ok || err != nil {
		return false, nil
	}
	st, err := lstatAt(dirfd, name)
	if err != nil {
		return false, nil
	}
	r, size, err := b.o.Fetch(n, file)
	if err != nil {
		return false, nil
	}
	defer r.Close()
	st.Size = size
	return true, b.copyEntry(rel, st, r)
}

// copyEntry writes one file of st.Size bytes from r: a reader that gives
// less is padded with zeros, one that gives more is cut; both are reported.
func (b *builder) copyEntry(rel string, st unix.Stat_t, r io.Reader) error {
	hdr := &tar.Header{Name: b.top + "/" + rel, Mode: fileMode(st), Size: st.Size,
		ModTime: time.Unix(st.Mtim.Sec, 0), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := b.tw.WriteHeader(hdr); err != nil {
		return err
	}
	b.sum.Reset()
	n, rerr, werr := padcopy.Copy(io.MultiWriter(b.tw, b.sum), r, st.Size, b.buf)
	if werr != nil {
		return werr
	}
	if n < st.Size {
		why := "shrank while read"
		if rerr != nil {
			why = "read failed: " + explain(rerr)
		}
		b.warn(rel, fmt.Sprintf("%s after %d of %d bytes; padded with zeros", why, n, st.Size))
	}
	b.note(rel, st.Size)
	return nil
}

// afterOpen, when set (by tests), runs between a file's open and its copy.
var afterOpen func(rel string)

// addBytes adds a file made in memory.
func (b *builder) addBytes(rel string, data []byte) error {
	b.sum.Reset()
	b.sum.Write(data)
	if err := b.header(rel, int64(len(data)), 0o644, b.o.Now, data); err != nil {
		return err
	}
	b.note(rel, int64(len(data)))
	return nil
}

func (b *builder) header(rel string, size, mode int64, mtime time.Time, data []byte) error {
	hdr := &tar.Header{Name: b.top + "/" + rel, Mode: mode, Size: size,
		ModTime: mtime.Truncate(time.Second), Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := b.tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err := b.tw.Write(data)
	return err
}

// note records a file just written in the MANIFEST.
func (b *builder) note(rel string, size int64) {
	fmt.Fprintf(&b.manifest, "%s  %d  %s\n", hex.EncodeToString(b.sum.Sum(nil)), size, manifestPath(rel))
	b.res.Files++
	b.res.Bytes += size
}

// manifestPath quotes a path that has a blank, a quote or a control
// character, so that one line is one file.
func manifestPath(rel string) string {
	if strings.ContainsFunc(rel, func(r rune) bool { return r <= ' ' || r == '"' || r == 0x7f }) {
		return strconv.Quote(rel)
	}
	return rel
}

func (b *builder) leftOut(rel string, size int64, why string) {
	line := manifestPath(rel)
	if size >= 0 {
		line += " (" + human(size) + ")"
	}
	b.res.LeftOut = append(b.res.LeftOut, line+": "+why)
}

func (b *builder) warn(rel, what string) {
	b.res.Warnings = append(b.res.Warnings, manifestPath(rel)+": "+what)
}

// explain is an error without the path that the caller already shows.
func explain(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// human is a size in B, KiB, MiB or GiB.
func human(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, suffix := float64(n)/unit, "KiB"
	for _, s := range []string{"MiB", "GiB", "TiB"} {
		if v < unit {
			break
		}
		v, suffix = v/unit, s
	}
	return fmt.Sprintf("%.1f %s", v, suffix)
}
