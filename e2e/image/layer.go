package image

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// epoch is every entry's mtime, so the same inputs give the same layer digests (the
// convention of SOURCE_DATE_EPOCH builds; 0 upsets some tar readers, 1 s does not).
var epoch = time.Unix(1, 0).UTC()

// layerWriter collects the entries of one layer tar. Parent directories are added as
// 0755 root-owned entries the first time a path below them appears, as docker does for
// COPY, so every layer unpacks on its own.
type layerWriter struct {
	buf  bytes.Buffer
	tw   *tar.Writer
	seen map[string]bool
}

func newLayerWriter() *layerWriter {
	w := &layerWriter{seen: make(map[string]bool)}
	w.tw = tar.NewWriter(&w.buf)
	return w
}

// name is the tar name of an absolute image path: relative, as docker writes layers.
func tarName(p string) string { return strings.TrimPrefix(path.Clean("/"+p), "/") }

func (w *layerWriter) parents(p string) error {
	dir := path.Dir(path.Clean("/" + p))
	if dir == "/" || w.seen[dir] {
		return nil
	}
	if err := w.parents(dir); err != nil {
		return err
	}
	return w.dir(dir, 0o755, 0, 0)
}

func (w *layerWriter) header(h *tar.Header) error {
	if err := w.parents(h.Name); err != nil {
		return err
	}
	abs := path.Clean("/" + h.Name)
	if w.seen[abs] {
		return fmt.Errorf("cannot add %s to a layer twice", abs)
	}
	w.seen[abs] = true
	h.Name = tarName(h.Name)
	if h.Typeflag == tar.TypeDir {
		h.Name += "/"
	}
	h.ModTime, h.Format = epoch, tar.FormatPAX
	if err := w.tw.WriteHeader(h); err != nil {
		return fmt.Errorf("cannot write the tar header of %s: %w", abs, err)
	}
	return nil
}

func (w *layerWriter) dir(p string, mode fs.FileMode, uid, gid int) error {
	return w.header(&tar.Header{Typeflag: tar.TypeDir, Name: p, Mode: unixMode(mode), Uid: uid, Gid: gid})
}

func (w *layerWriter) symlink(p, target string) error {
	return w.header(&tar.Header{Typeflag: tar.TypeSymlink, Name: p, Linkname: target, Mode: 0o777})
}

func (w *layerWriter) file(p string, data []byte, mode fs.FileMode, uid, gid int) error {
	h := &tar.Header{Typeflag: tar.TypeReg, Name: p, Mode: unixMode(mode), Uid: uid, Gid: gid, Size: int64(len(data))}
	if err := w.header(h); err != nil {
		return err
	}
	if _, err := w.tw.Write(data); err != nil {
		return fmt.Errorf("cannot write %s into a layer: %w", p, err)
	}
	return nil
}

// hostFile adds the host file src at p: its content, with mode and owner from the caller
// (like COPY --chmod/--chown), never the host file's own.
func (w *layerWriter) hostFile(p, src string, mode fs.FileMode, uid, gid int) error {
	fi, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("cannot add %s: %w", p, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("cannot add %s: %s is not a regular file", p, src)
	}
	f, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("cannot add %s: %w", p, err)
	}
	defer f.Close()
	h := &tar.Header{Typeflag: tar.TypeReg, Name: p, Mode: unixMode(mode), Uid: uid, Gid: gid, Size: fi.Size()}
	if err := w.header(h); err != nil {
		return err
	}
	if n, err := io.Copy(w.tw, f); err != nil || n != fi.Size() {
		return fmt.Errorf("cannot copy %s into a layer (%d of %d bytes): %v", src, n, fi.Size(), err)
	}
	return nil
}

// layer closes the tar and returns it as a gzip-compressed OCI layer (compressed once,
// on first use, and cached).
func (w *layerWriter) layer() (v1.Layer, error) {
	if err := w.tw.Close(); err != nil {
		return nil, fmt.Errorf("cannot finish a layer tar: %w", err)
	}
	b := w.buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
	if err != nil {
		return nil, fmt.Errorf("cannot make a layer: %w", err)
	}
	return l, nil
}

// sortedKeys returns m's keys in order, for messages.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
