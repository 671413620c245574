package attach

import (
	"io"
	"os/exec"
	"strconv"
	"testing"
)

// BenchmarkThreadPrint times Thread.print on one idle JVM through this
// package and through the JDK's jcmd (which starts a JVM of its own), side
// by side; "cold" is the first attach to a fresh JVM (trigger file,
// SIGQUIT, the listener's start):
//
//	go test -run '^$' -bench ThreadPrint -benchtime 20x ./internal/attach
func BenchmarkThreadPrint(b *testing.B) {
	j := startJVM(b, jvmOpts{})
	mustRun(b, j.pid, Jcmd("VM.uptime")) // the listener is up for both
	b.Run("attach", func(b *testing.B) {
		for b.Loop() {
			if err := Run(b.Context(), j.pid, Jcmd("Thread.print"), io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("jdk-jcmd", func(b *testing.B) {
		if _, err := exec.LookPath("jcmd"); err != nil {
			b.Skip("no jcmd")
		}
		for b.Loop() {
			if out, err := exec.Command("jcmd", strconv.Itoa(j.pid), "Thread.print").CombinedOutput(); err != nil {
				b.Fatalf("%v: %s", err, out)
			}
		}
	})
	b.Run("attach-cold", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			k := startJVM(b, jvmOpts{})
			b.StartTimer()
			if err := Run(b.Context(), k.pid, Jcmd("Thread.print"), io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
}
