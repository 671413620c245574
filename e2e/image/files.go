package image

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// DirSrc is the SRC of a files.txt line that makes a directory instead of copying a file.
const DirSrc = "-"

// LinkSrc starts the SRC of a files.txt line that makes a symbolic link: "link:T" makes
// DEST a link to T.
const LinkSrc = "link:"

// File is one line of deploy/docker/files.txt: one layer of the image.
type File struct {
	Src      string      // source name (the COPY source's base name), or DirSrc
	Dest     string      // absolute, clean path in the image
	Mode     fs.FileMode // permission bits, including setuid/setgid/sticky
	UID, GID int         // owner; 0:0 when the line names none
	Line     int         // line number in the list, for messages
}

// IsDir reports whether f makes a directory rather than copying a file.
func (f File) IsDir() bool { return f.Src == DirSrc }

// IsLink reports whether f makes a symbolic link, and to what.
func (f File) IsLink() (string, bool) { return strings.CutPrefix(f.Src, LinkSrc) }

// Owner is f's owner as the Dockerfile writes it: "UID:GID".
func (f File) Owner() string { return fmt.Sprintf("%d:%d", f.UID, f.GID) }

// DeployDir is the absolute path of the repository's deploy/ directory. It is found from
// this source file's location, so it works from any working directory of a test binary
// built in the repository (the only place these files exist).
func DeployDir() (string, error) {
	_, self, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot find deploy/: no caller information")
	}
	dir := filepath.Join(filepath.Dir(self), "..", "..", "deploy")
	if _, err := os.Stat(filepath.Join(dir, "docker", "files.txt")); err != nil {
		return "", fmt.Errorf("cannot find deploy/docker/files.txt next to e2e/image: %w", err)
	}
	return filepath.Clean(dir), nil
}

// FilesList is the path of deploy/docker/files.txt.
func FilesList() (string, error) {
	dir, err := DeployDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "docker", "files.txt"), nil
}

// LoadFiles reads and checks a files.txt.
func LoadFiles(name string) ([]File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("cannot open the file list: %w", err)
	}
	defer f.Close()
	return ParseFiles(f, name)
}

// ParseFiles parses a files.txt from r; name is used in messages. Blank lines and lines
// starting with # are skipped. Every error names the line.
func ParseFiles(r io.Reader, name string) ([]File, error) {
	var files []File
	dests := make(map[string]int)
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f, err := parseFileLine(line, n)
		if err != nil {
			return nil, fmt.Errorf("cannot parse %s:%d: %w", name, n, err)
		}
		if prev, dup := dests[f.Dest]; dup {
			return nil, fmt.Errorf("cannot parse %s:%d: %s is also the destination on line %d", name, n, f.Dest, prev)
		}
		dests[f.Dest] = n
		files = append(files, f)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", name, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("cannot use %s: it lists no files", name)
	}
	return files, nil
}

func parseFileLine(line string, n int) (File, error) {
	fields := strings.Fields(line)
	if len(fields) != 3 && len(fields) != 4 {
		return File{}, fmt.Errorf("want SRC DEST MODE [UID:GID], got %d fields in %q", len(fields), line)
	}
	f := File{Src: fields[0], Dest: fields[1], Line: n}
	if target, ok := f.IsLink(); ok {
		if target == "" || strings.Contains(target, "/") || target == "." || target == ".." {
			return File{}, fmt.Errorf("link target %q must be a file name in DEST's directory", target)
		}
		if fields[2] != "0777" || len(fields) == 4 {
			return File{}, fmt.Errorf("a link is MODE 0777 with no owner, got %q", fields[2:])
		}
	} else if f.Src != DirSrc && (strings.Contains(f.Src, "/") || f.Src == "." || f.Src == "..") {
		return File{}, fmt.Errorf("SRC %q must be a plain file name", f.Src)
	}
	if !path.IsAbs(f.Dest) || path.Clean(f.Dest) != f.Dest || f.Dest == "/" {
		return File{}, fmt.Errorf("DEST %q must be an absolute, clean path below /", f.Dest)
	}
	// Octal with a leading 0, as chmod and COPY --chmod write it: a mode written "755"
	// would parse the same, but "0644" versus "644" mix-ups are what the zero guards.
	if !strings.HasPrefix(fields[2], "0") {
		return File{}, fmt.Errorf("MODE %q must be octal with a leading 0, e.g. 0755", fields[2])
	}
	m, err := strconv.ParseUint(fields[2], 8, 32)
	if err != nil || m > 0o7777 {
		return File{}, fmt.Errorf("MODE %q is not an octal mode up to 07777", fields[2])
	}
	f.Mode = fileMode(uint32(m))
	if len(fields) == 4 {
		u, g, ok := strings.Cut(fields[3], ":")
		uid, err1 := strconv.Atoi(u)
		gid, err2 := strconv.Atoi(g)
		if !ok || err1 != nil || err2 != nil || uid < 0 || gid < 0 {
			return File{}, fmt.Errorf("owner %q must be numeric UID:GID", fields[3])
		}
		f.UID, f.GID = uid, gid
	}
	return f, nil
}

// fileMode turns Unix mode bits into an fs.FileMode (Go keeps setuid/setgid/sticky in
// its own bits, not in the low 12).
func fileMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// unixMode is the inverse of fileMode, for tar headers.
func unixMode(mode fs.FileMode) int64 {
	m := int64(mode.Perm())
	if mode&fs.ModeSetuid != 0 {
		m |= 0o4000
	}
	if mode&fs.ModeSetgid != 0 {
		m |= 0o2000
	}
	if mode&fs.ModeSticky != 0 {
		m |= 0o1000
	}
	return m
}

// OctalMode writes mode as files.txt and the Dockerfile do: "0755".
func OctalMode(mode fs.FileMode) string { return fmt.Sprintf("%04o", unixMode(mode)) }
