package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Whiteout names of the OCI image spec (layer.md, "Whiteouts").
const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
)

// Unpack writes img's filesystem into rootfs (created when missing), applying the layers
// bottom-up as an overlay would: a later entry replaces an earlier one, whiteouts delete.
// Owners are kept when running as root. No entry may write through a symlink or leave
// rootfs: a parent that is a symlink is an error, not something followed on the host.
func Unpack(img v1.Image, rootfs string) error {
	rootfs, err := filepath.Abs(rootfs)
	if err != nil {
		return fmt.Errorf("cannot resolve %s: %w", rootfs, err)
	}
	if err := os.MkdirAll(rootfs, 0o755); err != nil {
		return fmt.Errorf("cannot create the rootfs %s: %w", rootfs, err)
	}
	layers, err := img.Layers()
	if err != nil {
		return fmt.Errorf("cannot list the image layers: %w", err)
	}
	for i, l := range layers {
		if err := unpackLayer(l, rootfs); err != nil {
			return fmt.Errorf("cannot unpack layer %d into %s: %w", i, rootfs, err)
		}
	}
	return nil
}

func unpackLayer(l v1.Layer, rootfs string) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := applyEntry(rootfs, h, tr); err != nil {
			return err
		}
	}
}

// applyEntry writes one tar entry. Cleaning "/"+name drops any leading "..", so every
// path stays below rootfs; symlinked parents are refused in safeParent.
func applyEntry(rootfs string, h *tar.Header, r io.Reader) error {
	rel := path.Clean("/" + h.Name)
	if rel == "/" {
		return nil
	}
	dir, base := path.Split(rel)
	if err := safeParent(rootfs, dir); err != nil {
		return err
	}
	target := filepath.Join(rootfs, filepath.FromSlash(rel))
	switch {
	case base == whiteoutOpaque:
		return clearDir(filepath.Dir(target))
	case strings.HasPrefix(base, whiteoutPrefix):
		return os.RemoveAll(filepath.Join(filepath.Dir(target), strings.TrimPrefix(base, whiteoutPrefix)))
	}
	if fi, err := os.Lstat(target); err == nil && !(fi.IsDir() && h.Typeflag == tar.TypeDir) {
		if err := os.RemoveAll(target); err != nil {
			return fmt.Errorf("cannot replace %s: %w", rel, err)
		}
	}
	mode := h.FileInfo().Mode()
	switch h.Typeflag {
	case tar.TypeDir:
		if err := os.Mkdir(target, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("cannot create %s: %w", rel, err)
		}
	case tar.TypeReg:
		f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("cannot create %s: %w", rel, err)
		}
		_, err = io.Copy(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("cannot write %s: %w", rel, err)
		}
	case tar.TypeSymlink:
		if err := os.Symlink(h.Linkname, target); err != nil {
			return fmt.Errorf("cannot create the symlink %s: %w", rel, err)
		}
		return chown(target, h, rel)
	case tar.TypeLink:
		src := path.Clean("/" + h.Linkname)
		if err := safeParent(rootfs, path.Dir(src)); err != nil {
			return err
		}
		if err := os.Link(filepath.Join(rootfs, filepath.FromSlash(src)), target); err != nil {
			return fmt.Errorf("cannot link %s to %s: %w", rel, src, err)
		}
		return nil
	default:
		return fmt.Errorf("cannot unpack %s: tar entry type %q is not supported", rel, h.Typeflag)
	}
	if err := chown(target, h, rel); err != nil {
		return err
	}
	// After chown, which clears setuid/setgid bits.
	if err := os.Chmod(target, mode&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
		return fmt.Errorf("cannot chmod %s: %w", rel, err)
	}
	if err := os.Chtimes(target, h.ModTime, h.ModTime); err != nil {
		return fmt.Errorf("cannot set the times of %s: %w", rel, err)
	}
	return nil
}

// chown sets the entry's owner; only root may, so others keep their own.
func chown(target string, h *tar.Header, rel string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	if err := os.Lchown(target, h.Uid, h.Gid); err != nil {
		return fmt.Errorf("cannot chown %s: %w", rel, err)
	}
	return nil
}

// safeParent makes sure every component of dir below rootfs is a real directory,
// creating missing ones (0755) and refusing symlinks, which could point anywhere on the
// host (the base's /lib -> usr/lib is one: entries must use /usr/lib).
func safeParent(rootfs, dir string) error {
	cur := rootfs
	for _, c := range strings.Split(strings.Trim(path.Clean("/"+dir), "/"), "/") {
		if c == "" {
			continue
		}
		cur = filepath.Join(cur, c)
		fi, err := os.Lstat(cur)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := os.Mkdir(cur, 0o755); err != nil {
				return fmt.Errorf("cannot create %s: %w", cur, err)
			}
		case err != nil:
			return fmt.Errorf("cannot inspect %s: %w", cur, err)
		case fi.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("cannot unpack below %s: it is a symlink, and entries must not write through one",
				strings.TrimPrefix(cur, rootfs))
		case !fi.IsDir():
			return fmt.Errorf("cannot unpack below %s: it is not a directory", strings.TrimPrefix(cur, rootfs))
		}
	}
	return nil
}

// clearDir removes dir's contents (an opaque whiteout hides the lower layers' entries).
func clearDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("cannot read %s: %w", dir, err)
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("cannot clear %s: %w", dir, err)
		}
	}
	return nil
}
