package memwatch

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sort"
	"time"

	"golang.org/x/sys/unix"
)

// The timeline file is fixed-size: a header, then a fine ring of the most
// recent samples (one per Sample call), then a coarse ring where every
// CoarseEvery samples are folded into one record (their peak usage and
// peak RSS). Each record is written in place with one pwrite and carries
// its own sequence number and CRC-32, so a reader can order the rings and
// skip a record torn by a crash. Writing needs no fsync to survive a
// SIGKILL of the writer: the data is in the page cache once pwrite
// returns. It does not survive a crash of the kernel.
//
//	header (32 bytes): magic "hfmemtl1", fine slots u32, coarse slots u32,
//	                   coarse every u32, 12 bytes zero
//	record (48 bytes): seq u64 (1-based; 0 = empty slot), unix ms i64,
//	                   usage u64, limit u64, rss u64, crc32 u32 of the
//	                   first 40 bytes, 4 bytes zero
//
// All integers are little-endian.
const (
	timelineMagic = "hfmemtl1"
	headerSize    = 32
	recordSize    = 48
)

// Layout sizes a timeline file.
type Layout struct {
	FineSlots   int // samples kept at full resolution
	CoarseSlots int // folded records kept after them
	CoarseEvery int // samples folded into one coarse record
}

// DefaultLayout keeps, at one sample a second, the last 10 minutes at full
// resolution and the 24 hours before that at one record a minute: 98 KB.
var DefaultLayout = Layout{FineSlots: 600, CoarseSlots: 1440, CoarseEvery: 60}

// Size is the file's size in bytes.
func (l Layout) Size() int64 {
	return headerSize + int64(l.FineSlots+l.CoarseSlots)*recordSize
}

func (l Layout) valid() error {
	if l.FineSlots < 1 || l.CoarseSlots < 0 || l.CoarseEvery < 1 ||
		l.FineSlots > 1<<20 || l.CoarseSlots > 1<<20 {
		return fmt.Errorf("memwatch: bad timeline layout %+v", l)
	}
	return nil
}

// TimelineName is the timeline file's name in a run dir.
const TimelineName = "memory.timeline"

// Point is one record of the timeline.
type Point struct {
	Seq    uint64    // 1-based; for a coarse record, the last sample folded in
	Time   time.Time // when the sample was taken
	Usage  uint64    // cgroup usage (peak of the folded samples if Coarse)
	Limit  uint64    // cgroup limit; NoLimit if none
	RSS    uint64    // app RSS (peak of the folded samples if Coarse)
	Coarse bool
}

// timelineWriter writes a timeline file.
type timelineWriter struct {
	f      *os.File
	layout Layout
	seq    uint64
	fold   Point // the coarse record being built
	nfold  int
	buf    [recordSize]byte
}

// createTimeline creates path (which must not exist, and is not followed if
// it is a symlink) at its full size.
func createTimeline(path string, l Layout) (*timelineWriter, error) {
	if err := l.valid(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, err
	}
	var h [headerSize]byte
	copy(h[:], timelineMagic)
	binary.LittleEndian.PutUint32(h[8:], uint32(l.FineSlots))
	binary.LittleEndian.PutUint32(h[12:], uint32(l.CoarseSlots))
	binary.LittleEndian.PutUint32(h[16:], uint32(l.CoarseEvery))
	if _, err := f.WriteAt(h[:], 0); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Truncate(l.Size()); err != nil {
		f.Close()
		return nil, err
	}
	return &timelineWriter{f: f, layout: l}, nil
}

// append writes one sample to the fine ring and, every CoarseEvery samples,
// the folded record to the coarse ring.
func (w *timelineWriter) append(p Point) error {
	w.seq++
	p.Seq = w.seq
	p.Coarse = false
	slot := int64((w.seq - 1) % uint64(w.layout.FineSlots))
	if err := w.write(headerSize+slot*recordSize, p); err != nil {
		return err
	}
	if w.layout.CoarseSlots == 0 {
		return nil
	}
	if w.nfold == 0 {
		w.fold = p
	} else {
		w.fold.Seq, w.fold.Time, w.fold.Limit = p.Seq, p.Time, p.Limit
		w.fold.Usage = max(w.fold.Usage, p.Usage)
		w.fold.RSS = max(w.fold.RSS, p.RSS)
	}
	w.nfold++
	if w.nfold < w.layout.CoarseEvery {
		return nil
	}
	w.nfold = 0
	n := w.seq / uint64(w.layout.CoarseEvery)
	cslot := int64((n - 1) % uint64(w.layout.CoarseSlots))
	off := headerSize + int64(w.layout.FineSlots)*recordSize + cslot*recordSize
	return w.write(off, w.fold)
}

func (w *timelineWriter) write(off int64, p Point) error {
	b := w.buf[:]
	binary.LittleEndian.PutUint64(b[0:], p.Seq)
	binary.LittleEndian.PutUint64(b[8:], uint64(p.Time.UnixMilli()))
	binary.LittleEndian.PutUint64(b[16:], p.Usage)
	binary.LittleEndian.PutUint64(b[24:], p.Limit)
	binary.LittleEndian.PutUint64(b[32:], p.RSS)
	binary.LittleEndian.PutUint32(b[40:], crc32.ChecksumIEEE(b[:40]))
	binary.LittleEndian.PutUint32(b[44:], 0)
	_, err := rawPwrite(w.f, b, off)
	return err
}

func (w *timelineWriter) close() error { return w.f.Close() }

// ErrNotTimeline is returned by ReadTimeline for a file that does not start
// with a timeline header.
var ErrNotTimeline = errors.New("memwatch: not a timeline file")

// maxTimelineSize bounds what ReadTimeline reads.
const maxTimelineSize = headerSize + 2<<20*recordSize

// ReadTimeline reads a timeline file and returns its records oldest first:
// the coarse records older than the oldest fine one, then the fine ones.
// Empty slots, and records whose checksum does not match (torn by a crash,
// or a short file), are skipped.
func ReadTimeline(path string) ([]Point, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTimelineSize))
	if err != nil {
		return nil, err
	}
	return parseTimeline(data)
}

func parseTimeline(data []byte) ([]Point, error) {
	if len(data) < headerSize || string(data[:8]) != timelineMagic {
		return nil, ErrNotTimeline
	}
	l := Layout{
		FineSlots:   int(binary.LittleEndian.Uint32(data[8:])),
		CoarseSlots: int(binary.LittleEndian.Uint32(data[12:])),
		CoarseEvery: int(binary.LittleEndian.Uint32(data[16:])),
	}
	if err := l.valid(); err != nil {
		return nil, err
	}
	body := data[headerSize:]
	var fine, coarse []Point
	for i := 0; i < l.FineSlots+l.CoarseSlots; i++ {
		off := i * recordSize
		if off+recordSize > len(body) {
			break
		}
		p, ok := decodeRecord(body[off : off+recordSize])
		if !ok {
			continue
		}
		if i < l.FineSlots {
			fine = append(fine, p)
		} else {
			p.Coarse = true
			coarse = append(coarse, p)
		}
	}
	bySeq := func(ps []Point) {
		sort.Slice(ps, func(i, j int) bool { return ps[i].Seq < ps[j].Seq })
	}
	bySeq(fine)
	bySeq(coarse)
	out := make([]Point, 0, len(fine)+len(coarse))
	for _, c := range coarse {
		if len(fine) == 0 || c.Seq < fine[0].Seq {
			out = append(out, c)
		}
	}
	return append(out, fine...), nil
}

func decodeRecord(b []byte) (Point, bool) {
	seq := binary.LittleEndian.Uint64(b[0:])
	if seq == 0 {
		return Point{}, false
	}
	if crc32.ChecksumIEEE(b[:40]) != binary.LittleEndian.Uint32(b[40:]) {
		return Point{}, false
	}
	return Point{
		Seq:   seq,
		Time:  time.UnixMilli(int64(binary.LittleEndian.Uint64(b[8:]))),
		Usage: binary.LittleEndian.Uint64(b[16:]),
		Limit: binary.LittleEndian.Uint64(b[24:]),
		RSS:   binary.LittleEndian.Uint64(b[32:]),
	}, true
}
