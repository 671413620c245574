package cause

import (
	"syscall"
	"time"
)

// cpuMark is the CPU time used so far by this process and by its
// waited-for children: on a shared machine it varies less than wall time.
type cpuMark struct{ self, kids time.Duration }

func cpuNow() cpuMark {
	var self, kids syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return cpuMark{tv(self.Utime) + tv(self.Stime), tv(kids.Utime) + tv(kids.Stime)}
}

// Sub is the seconds of CPU the relay (this process) used since m. The
// app's CPU is left out: it is the same with the Extractor on and off.
func (m cpuMark) Sub(start cpuMark) float64 {
	return (m.self - start.self).Seconds()
}
