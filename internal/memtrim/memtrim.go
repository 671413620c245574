// Package memtrim gives back the pages of holdfast's own binary that only
// its start-up needed.
//
// A static Go binary with holdfast's parts faults in about 9 MiB of its
// code and read-only data while the runtime and the packages initialise
// (client_golang with protobuf, x/crypto/ssh, net/http). An idle PID 1
// touches a small part of that again. Pageout (madvise MADV_PAGEOUT,
// Linux 5.4) reclaims the clean, file-backed pages only this process maps;
// the kernel could evict them under memory pressure anyway, and a page
// that is needed again is read back from the binary on its next use.
// MADV_RANDOM on the same ranges turns readahead off for them, so that such
// a fault brings back the page it needs instead of its neighbours: without
// it, a few probe requests brought back 4 of the 7 MiB paged out.
//
// The price is a read of the binary for each page used again later, one
// by one: in the benchmark, 23 major faults over the first 300 forwarded
// signals after a trim, and a few per cent on their median latency while
// that lasts. Pages another process also maps (another holdfast started
// from the same file) and pages not yet written back are left alone by the
// kernel. Nothing writable is touched: the Go heap, stacks and the binary's
// data segment stay as they are.
package memtrim

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Mapping is one read-only mapping of the executable.
type Mapping struct {
	Start, End uintptr
}

// Len is the mapping's size in bytes.
func (m Mapping) Len() uintptr { return m.End - m.Start }

// Trim pages out the executable's read-only mappings and returns how many
// bytes they span. A kernel without MADV_PAGEOUT (before 5.4) returns an
// error and leaves everything as it was.
func Trim() (uintptr, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, fmt.Errorf("cannot find holdfast's binary: %w", err)
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0, fmt.Errorf("cannot list holdfast's mappings: %w", err)
	}
	defer f.Close()
	maps, err := ReadOnlyMappings(f, exe)
	if err != nil {
		return 0, err
	}
	if len(maps) == 0 {
		return 0, fmt.Errorf("no read-only mapping of %s in /proc/self/maps", exe)
	}
	var total uintptr
	for _, m := range maps {
		// The random hint first: pageout reclaims now, the hint shapes
		// every fault after it.
		if err := madvise(m, unix.MADV_RANDOM); err != nil {
			return total, fmt.Errorf("cannot advise %#x-%#x random: %w", m.Start, m.End, err)
		}
		if err := madvise(m, unix.MADV_PAGEOUT); err != nil {
			return total, fmt.Errorf("cannot page out %#x-%#x: %w", m.Start, m.End, err)
		}
		total += m.Len()
	}
	return total, nil
}

// madvise takes addresses, not a []byte: the ranges are the binary's own
// mappings, not Go memory.
func madvise(m Mapping, advice int) error {
	if _, _, e := unix.Syscall(unix.SYS_MADVISE, m.Start, m.Len(), uintptr(advice)); e != 0 {
		return e
	}
	return nil
}

// ReadOnlyMappings returns the mappings of path in a /proc/<pid>/maps
// listing that are neither writable nor shared.
func ReadOnlyMappings(maps io.Reader, path string) ([]Mapping, error) {
	var out []Mapping
	sc := bufio.NewScanner(maps)
	for sc.Scan() {
		// address perms offset dev inode pathname
		f := strings.Fields(sc.Text())
		if len(f) < 6 || strings.Join(f[5:], " ") != path {
			continue
		}
		perms := f[1]
		if len(perms) != 4 || perms[1] == 'w' || perms[3] != 'p' {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil || end <= start {
			return nil, fmt.Errorf("cannot parse the mapping %q", sc.Text())
		}
		out = append(out, Mapping{uintptr(start), uintptr(end)})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cannot read the mappings: %w", err)
	}
	return out, nil
}
