package tarcp

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/holdfast-dev/holdfast/internal/padcopy"
)

// recordSize is GNU tar's default record (blocking factor 20): the archive
// is padded with zeros to a multiple of it.
const recordSize = 20 * 512

// creator writes one archive.
type creator struct {
	tw     *tar.Writer
	out    *countWriter
	f      *failures
	links  map[[2]uint64]string // dev, ino → first member name, for hard links
	users  map[int]string
	groups map[int]string
	buf    []byte
	// noted holds the prefixes already reported as removed, as GNU tar
	// reports each once: "m:" + prefix for member names, "l:" + prefix
	// for hard link targets.
	noted      map[string]bool
	outputFail error
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// create archives path to w: `tar cf - PATH`.
func create(path string, w io.Writer, stderr io.Writer) int {
	f := &failures{w: stderr}
	out := &countWriter{w: w}
	c := &creator{tw: tar.NewWriter(out), out: out, f: f, links: map[[2]uint64]string{},
		users: map[int]string{}, groups: map[int]string{}, buf: make([]byte, 32<<10), noted: map[string]bool{}}
	if t := strings.TrimRight(path, "/"); t != "" {
		path = t // GNU tar drops the trailing slashes of its argument
	}
	c.add(path)
	if c.outputFail == nil {
		c.outputFail = c.tw.Close()
	}
	if c.outputFail == nil {
		if pad := (recordSize - out.n%recordSize) % recordSize; pad > 0 {
			_, c.outputFail = out.Write(make([]byte, pad))
		}
	}
	if c.outputFail != nil {
		f.fail("-: Cannot write: %v", unwrap(c.outputFail))
	}
	return f.status()
}

// memberName is the archive name of a file's path, as GNU tar makes it:
// everything up to the last ".." component and the slashes after it, and
// leading slashes, are removed; the removed prefix is returned for the
// message.
func memberName(path string) (name, stripped string) {
	name = path
	parts := strings.Split(name, "/")
	if i := slices.Index(reverse(parts), ".."); i >= 0 {
		name = strings.Join(parts[len(parts)-i:], "/")
	}
	name = strings.TrimLeft(name, "/")
	return name, path[:len(path)-len(name)]
}

// noteStripped reports a removed prefix once, as GNU tar does.
func (c *creator) noteStripped(kind, stripped string) {
	if stripped == "" || c.noted[kind+stripped] {
		return
	}
	c.noted[kind+stripped] = true
	what := "member names"
	if kind == "l:" {
		what = "hard link targets"
	}
	c.f.note("Removing leading `%s' from %s", stripped, what)
}

func reverse(s []string) []string {
	r := slices.Clone(s)
	slices.Reverse(r)
	return r
}

// add archives path and, for a directory, what is below it.
func (c *creator) add(path string) {
	if c.outputFail != nil {
		return
	}
	name, stripped := memberName(path)
	c.noteStripped("m:", stripped)
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		c.f.fail("%s: Cannot stat: %v", path, unwrap(err))
		return
	}
	hdr := c.header(&st, name)
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		c.dir(path, hdr)
	case unix.S_IFREG:
		c.file(path, stripped, hdr, &st)
	case unix.S_IFLNK:
		target, err := os.Readlink(path)
		if err != nil {
			c.f.fail("%s: Cannot readlink: %v", path, unwrap(err))
			return
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
		c.write(hdr)
	case unix.S_IFCHR, unix.S_IFBLK, unix.S_IFIFO:
		hdr.Typeflag = map[uint32]byte{unix.S_IFCHR: tar.TypeChar, unix.S_IFBLK: tar.TypeBlock, unix.S_IFIFO: tar.TypeFifo}[st.Mode&unix.S_IFMT]
		if hdr.Typeflag != tar.TypeFifo {
			hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
		}
		c.write(hdr)
	case unix.S_IFSOCK:
		c.f.note("%s: socket ignored", path)
	}
}

// header is the common part of a member's header, as GNU tar fills it.
func (c *creator) header(st *unix.Stat_t, name string) *tar.Header {
	return &tar.Header{
		Name:    name,
		Mode:    int64(st.Mode & 0o7777),
		Uid:     int(st.Uid),
		Gid:     int(st.Gid),
		Uname:   c.userName(int(st.Uid)),
		Gname:   c.groupName(int(st.Gid)),
		ModTime: time.Unix(st.Mtim.Sec, 0),
		Format:  tar.FormatGNU,
	}
}

func (c *creator) dir(path string, hdr *tar.Header) {
	hdr.Typeflag = tar.TypeDir
	hdr.Name = strings.TrimSuffix(hdr.Name, "/") + "/"
	if hdr.Name == "/" {
		hdr.Name = "./" // the whole name was removed: GNU tar's name for it
	}
	if !c.write(hdr) {
		return
	}
	d, err := os.Open(path)
	if err != nil {
		c.f.fail("%s: Cannot open: %v", path, unwrap(err))
		return
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		c.f.fail("%s: Cannot read: %v", path, unwrap(err))
	}
	slices.Sort(names)
	dirPath := strings.TrimSuffix(path, "/")
	for _, n := range names {
		c.add(dirPath + "/" + n)
	}
}

// file archives a regular file, or a hard link to the first name of an
// inode with more than one link.
func (c *creator) file(path, stripped string, hdr *tar.Header, st *unix.Stat_t) {
	if st.Nlink > 1 {
		key := [2]uint64{uint64(st.Dev), st.Ino}
		if first, ok := c.links[key]; ok {
			hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
			c.write(hdr)
			return
		}
		// GNU tar says so when it records the name, link or not.
		c.noteStripped("l:", stripped)
		c.links[key] = hdr.Name
	}
	fd, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		c.f.fail("%s: Cannot open: %v", path, unwrap(err))
		return
	}
	defer fd.Close()
	hdr.Typeflag, hdr.Size = tar.TypeReg, st.Size
	if !c.write(hdr) {
		return
	}
	n, rerr, werr := padcopy.Copy(c.tw, fd, st.Size, c.buf)
	if werr != nil {
		c.outputFail = werr
		return
	}
	if n < st.Size {
		if rerr != nil {
			c.f.fail("%s: Read error at byte %d: %v; padding with zeros", path, n, unwrap(rerr))
		} else {
			c.f.fail("%s: File shrank by %d bytes; padding with zeros", path, st.Size-n)
		}
		return
	}
	if fi, err := fd.Stat(); err == nil && fi.Size() > st.Size {
		c.f.note("%s: file changed as we read; archived its first %d bytes", path, st.Size)
	}
}

func (c *creator) write(hdr *tar.Header) bool {
	if err := c.tw.WriteHeader(hdr); err != nil {
		c.outputFail = err
		return false
	}
	return true
}

func (c *creator) userName(uid int) string {
	if n, ok := c.users[uid]; ok {
		return n
	}
	n := ""
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		n = u.Username
	}
	c.users[uid] = n
	return n
}

func (c *creator) groupName(gid int) string {
	if n, ok := c.groups[gid]; ok {
		return n
	}
	n := ""
	if g, err := user.LookupGroupId(strconv.Itoa(gid)); err == nil {
		n = g.Name
	}
	c.groups[gid] = n
	return n
}

// unwrap is an error without the path the message already shows, worded
// as C's strerror does ("No such file or directory"), as GNU tar prints it.
func unwrap(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	var errno unix.Errno
	if errors.As(err, &errno) {
		msg := errno.Error()
		return errors.New(strings.ToUpper(msg[:1]) + msg[1:])
	}
	return err
}
