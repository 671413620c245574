package memwatch

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// preadFile is a file kept open and read again from offset 0 for each
// sample: cgroup and /proc files regenerate their content on a read at
// offset 0, and one pread costs less than open, read and close.
type preadFile struct {
	f   *os.File
	buf []byte
}

func openPread(path string, size int) (*preadFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &preadFile{f: f, buf: make([]byte, size)}, nil
}

// read returns the file's content (up to the buffer's size); the slice is
// valid until the next read.
func (p *preadFile) read() ([]byte, error) {
	n, err := rawPread(p.f, p.buf, 0)
	if n > 0 {
		return p.buf[:n], nil
	}
	return nil, err
}

func (p *preadFile) close() {
	if p != nil {
		p.f.Close()
	}
}

// sampleFiles are the files one sample reads.
type sampleFiles struct {
	version Version
	usage   *preadFile
	limit   *preadFile
	status  *preadFile // nil without an app
}

func openSampleFiles(cg Cgroup, pid int) (*sampleFiles, error) {
	usage, limit := "memory.usage_in_bytes", "memory.limit_in_bytes"
	if cg.Version == V2 {
		usage, limit = "memory.current", "memory.max"
	}
	s := &sampleFiles{version: cg.Version}
	var err error
	if s.usage, err = openPread(cg.file(usage), 64); err != nil {
		return nil, err
	}
	if s.limit, err = openPread(cg.file(limit), 64); err != nil {
		s.close()
		return nil, err
	}
	if pid > 0 {
		// An app already gone has no RSS; that is not an error.
		s.status, _ = openPread("/proc/"+strconv.Itoa(pid)+"/status", 4096)
	}
	return s, nil
}

// read returns usage, limit (NoLimit if none) and the app's RSS (0 if
// unknown or gone).
func (s *sampleFiles) read() (usage, limit, rss uint64, err error) {
	b, err := s.usage.read()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("memwatch: reading %s: %w", s.usage.f.Name(), err)
	}
	if usage, err = strconv.ParseUint(string(bytes.TrimSpace(b)), 10, 64); err != nil {
		return 0, 0, 0, fmt.Errorf("memwatch: %s: %w", s.usage.f.Name(), err)
	}
	b, err = s.limit.read()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("memwatch: reading %s: %w", s.limit.f.Name(), err)
	}
	b = bytes.TrimSpace(b)
	switch {
	case s.version == V2 && string(b) == "max":
		limit = NoLimit
	default:
		if limit, err = strconv.ParseUint(string(b), 10, 64); err != nil {
			return 0, 0, 0, fmt.Errorf("memwatch: %s: %w", s.limit.f.Name(), err)
		}
		if s.version == V1 && limit >= v1Unlimited {
			limit = NoLimit
		}
	}
	if s.status != nil {
		if b, err := s.status.read(); err == nil {
			rss, _ = parseVmRSS(b)
		}
	}
	return usage, limit, rss, nil
}

func (s *sampleFiles) close() {
	s.usage.close()
	s.limit.close()
	s.status.close()
}
