package probes

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// processCollector exports the standard process_* metrics (same names and
// help as collectors.NewProcessCollector) at about a fifth of its cost.
//
// Why not the library's: per scrape it re-reads /proc/stat for the boot time,
// /proc/self/limits and /proc/self/net/netstat, about 250 µs of CPU on the
// reference machine, half of the 0.5 ms a whole scrape may cost. Here the
// start time and the limits are read once (holdfast never changes its own
// limits after start), and each scrape reads /proc/self/stat and stats
// /proc/self/fd. process_network_{receive,transmit}_bytes_total are left out:
// they count the whole network namespace (the pod), not holdfast, and they
// were the most expensive part.
type processCollector struct {
	pageSize  float64
	startTime float64 // 0 when unknown: then the series is left out
	maxFDs    float64 // -1 when unknown
	maxVsize  float64 // -1 when unknown
}

// userHZ is the kernel's USER_HZ, the unit of the tick fields in
// /proc/<pid>/stat: 100 on every Linux ABI (proc(5)).
const userHZ = 100

var (
	descCPU       = prometheus.NewDesc("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", nil, nil)
	descOpenFDs   = prometheus.NewDesc("process_open_fds", "Number of open file descriptors.", nil, nil)
	descMaxFDs    = prometheus.NewDesc("process_max_fds", "Maximum number of open file descriptors.", nil, nil)
	descVsize     = prometheus.NewDesc("process_virtual_memory_bytes", "Virtual memory size in bytes.", nil, nil)
	descMaxVsize  = prometheus.NewDesc("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.", nil, nil)
	descRSS       = prometheus.NewDesc("process_resident_memory_bytes", "Resident memory size in bytes.", nil, nil)
	descStartTime = prometheus.NewDesc("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", nil, nil)
)

func newProcessCollector() *processCollector {
	c := &processCollector{pageSize: float64(os.Getpagesize()), maxFDs: -1, maxVsize: -1}
	if st, err := readSelfStat(); err == nil {
		if boot, err := bootTime(); err == nil {
			c.startTime = boot + st.startTicks/userHZ
		}
	}
	if b, err := os.ReadFile("/proc/self/limits"); err == nil {
		c.maxFDs = softLimit(b, "Max open files")
		c.maxVsize = softLimit(b, "Max address space")
	}
	return c
}

func (c *processCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCPU, descOpenFDs, descMaxFDs, descVsize, descMaxVsize, descRSS, descStartTime} {
		ch <- d
	}
}

// Collect leaves out what it cannot read, like the library collector without
// ReportErrors: process metrics are a mix-in and must not fail a scrape.
func (c *processCollector) Collect(ch chan<- prometheus.Metric) {
	if st, err := readSelfStat(); err == nil {
		ch <- prometheus.MustNewConstMetric(descCPU, prometheus.CounterValue, st.cpuTicks/userHZ)
		ch <- prometheus.MustNewConstMetric(descVsize, prometheus.GaugeValue, st.vsize)
		ch <- prometheus.MustNewConstMetric(descRSS, prometheus.GaugeValue, st.rssPages*c.pageSize)
	}
	if n, err := openFDs(); err == nil {
		ch <- prometheus.MustNewConstMetric(descOpenFDs, prometheus.GaugeValue, n)
	}
	if c.maxFDs >= 0 {
		ch <- prometheus.MustNewConstMetric(descMaxFDs, prometheus.GaugeValue, c.maxFDs)
	}
	if c.maxVsize >= 0 {
		ch <- prometheus.MustNewConstMetric(descMaxVsize, prometheus.GaugeValue, c.maxVsize)
	}
	if c.startTime > 0 {
		ch <- prometheus.MustNewConstMetric(descStartTime, prometheus.GaugeValue, c.startTime)
	}
}

type selfStat struct {
	cpuTicks, startTicks, vsize, rssPages float64
}

// readSelfStat parses /proc/self/stat (proc(5)). The command name (field 2)
// may hold spaces and parentheses, so fields are counted from the last ')'.
func readSelfStat() (selfStat, error) {
	var buf [1024]byte
	b, err := readSmall("/proc/self/stat", buf[:])
	if err != nil {
		return selfStat{}, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 > len(b) {
		return selfStat{}, errors.New("cannot parse /proc/self/stat: no ')'")
	}
	f := strings.Fields(string(b[i+2:])) // f[0] is field 3 (state)
	const utime, stime, starttime, vsize, rss = 14 - 3, 15 - 3, 22 - 3, 23 - 3, 24 - 3
	if len(f) <= rss {
		return selfStat{}, errors.New("cannot parse /proc/self/stat: too few fields")
	}
	num := func(k int) float64 {
		v, _ := strconv.ParseFloat(f[k], 64)
		return v
	}
	return selfStat{
		cpuTicks:   num(utime) + num(stime),
		startTicks: num(starttime),
		vsize:      num(vsize),
		rssPages:   num(rss),
	}, nil
}

// openFDs counts holdfast's open descriptors. Since Linux 6.2 the size of
// /proc/self/fd is the count (torvalds/linux f1f1f2569901), one stat call;
// older kernels report 0 and the directory is listed instead.
func openFDs() (float64, error) {
	if fi, err := os.Stat("/proc/self/fd"); err == nil && fi.Size() > 0 {
		return float64(fi.Size()), nil
	}
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return 0, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	return float64(len(names)), err
}

// bootTime reads btime from /proc/stat (proc(5)), in unix seconds.
func bootTime() (float64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, errors.New("cannot find btime in /proc/stat")
}

// softLimit returns the soft limit of one /proc/self/limits row, with
// "unlimited" as the largest uint64 as the library reports it; -1 if absent.
func softLimit(limits []byte, name string) float64 {
	for _, line := range strings.Split(string(limits), "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return -1
		}
		if f[0] == "unlimited" {
			return float64(math.MaxUint64)
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return -1
		}
		return v
	}
	return -1
}

// readSmall reads a small /proc file into buf without os.ReadFile's fstat,
// which /proc answers with size 0 anyway.
func readSmall(path string, buf []byte) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	n, err := io.ReadFull(f, buf)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	return buf[:n], err
}
