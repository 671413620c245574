package capture

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"
)

func drain(ch <-chan []byte) (all []byte, chunks int) {
	for c := range ch {
		all = append(all, c...)
		chunks++
	}
	return all, chunks
}

// A follower from the start and one that joins mid-run each see every byte
// in order, and their channels close at EOF.
func TestFollowEveryByte(t *testing.T) {
	con, _, _ := testConsole(t)
	run, err := Start(Options{Console: con})
	if err != nil {
		t.Fatal(err)
	}
	first, ch1 := run.Follow(context.Background())
	got1 := make(chan []byte)
	go func() { b, _ := drain(ch1); got1 <- b }()
	// About 50 writes: far fewer chunks than followBuffer, so even a reader
	// that seldom gets the CPU is not dropped.
	cmd := child(t, run, nil, "streams", strconv.Itoa(1<<20), strconv.Itoa(512<<10), "3")
	waitFor(t, "some output", func() bool { return run.Total(Stdout) > 0 })
	second, ch2 := run.Follow(context.Background())
	got2 := make(chan []byte)
	go func() { b, _ := drain(ch2); got2 <- b }()
	finish(t, run, cmd)

	all := run.Bytes()
	if len(all) != 1<<20+512<<10 {
		t.Fatalf("retained %d bytes", len(all))
	}
	if b := append(first, <-got1...); !bytes.Equal(b, all) {
		t.Errorf("first follower: %d bytes, differs at %d", len(b), firstDiff(b, all))
	}
	if b := append(second, <-got2...); !bytes.Equal(b, all) || len(second) == 0 {
		t.Errorf("second follower: snapshot %d + %d bytes, differs at %d", len(second), len(b)-len(second), firstDiff(b, all))
	}
	after, ch3 := run.Follow(context.Background())
	if rest, _ := drain(ch3); !bytes.Equal(after, all) || len(rest) != 0 {
		t.Errorf("follow after EOF: %d + %d bytes", len(after), len(rest))
	}
}

// A follower that never reads is dropped with a marker; the relay goes on.
func TestFollowBlockedReader(t *testing.T) {
	con, stdout, _ := testConsole(t)
	run, err := Start(Options{Console: con, MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, stuck := run.Follow(ctx)
	const n = 2 * followBuffer * readSize // at least twice as many reads as the follower holds
	cmd := child(t, run, nil, "bulk", strconv.Itoa(n))
	finish(t, run, cmd) // would time out if the relay waited for the follower
	if len(stdout()) != n {
		t.Errorf("console got %d bytes, want %d", len(stdout()), n)
	}
	var last []byte
	chunks := 0
	for c := range stuck {
		last = c
		chunks++
	}
	if chunks != followBuffer+1 || string(last) != followDropped {
		t.Errorf("stuck follower got %d chunks, the last of %d bytes; want %d ending in the marker", chunks, len(last), followBuffer+1)
	}
}

// Cancelling ctx closes the follower's channel.
func TestFollowCancel(t *testing.T) {
	con, _, _ := testConsole(t)
	run, err := Start(Options{Console: con})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { run.CloseWriters(); finish(t, run, nil) }()
	ctx, cancel := context.WithCancel(context.Background())
	_, ch := run.Follow(ctx)
	cancel()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("follow channel still open after cancel")
		}
	}
}
