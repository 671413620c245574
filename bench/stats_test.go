package main

import (
	"math"
	"testing"
)

func TestQuantileNearestRank(t *testing.T) {
	s := sample{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	cases := []struct {
		q    float64
		want float64
	}{{0.5, 5}, {0.9, 9}, {0.99, 10}, {1, 10}, {0.01, 1}}
	for _, c := range cases {
		if got := s.Quantile(c.q); got != c.want {
			t.Errorf("quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	// The input is not reordered: later reads see the same data.
	if s[0] != 5 || s[5] != 10 {
		t.Errorf("quantile sorted its input: %v", s)
	}
	if !math.IsNaN(sample(nil).Median()) {
		t.Error("median of an empty sample is not NaN")
	}
}

func TestRatioUnknown(t *testing.T) {
	if got := ratio(3, 2); got != 1.5 {
		t.Errorf("ratio(3, 2) = %v", got)
	}
	if !math.IsNaN(ratio(1, 0)) || !math.IsNaN(ratio(math.NaN(), 1)) {
		t.Error("ratio with an unknown side is not NaN")
	}
}

func TestWithFlagsReplacesAndAdds(t *testing.T) {
	argv := []string{"hf", "--hold=false", "--probe-addr=", "--", "app", "--hold=x"}
	got := withFlags(argv, []string{"--probe-addr=127.0.0.1:0", "--backoff=0"})
	want := []string{"hf", "--hold=false", "--probe-addr=127.0.0.1:0", "--backoff=0", "--", "app", "--hold=x"}
	if len(got) != len(want) {
		t.Fatalf("withFlags = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("withFlags = %q, want %q", got, want)
		}
	}
}
