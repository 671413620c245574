package memtrim

import (
	"bufio"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestReadOnlyMappings(t *testing.T) {
	const maps = `00400000-008e2000 r-xp 00000000 fe:01 123 /usr/bin/hold fast
008e2000-00e26000 r--p 004e2000 fe:01 123 /usr/bin/hold fast
00e26000-00e5c000 rw-p 00a26000 fe:01 123 /usr/bin/hold fast
00e5c000-00e90000 rw-p 00000000 00:00 0
00f00000-00f10000 r--s 00000000 fe:01 123 /usr/bin/hold fast
7f0000000000-7f0000001000 r--p 00000000 fe:01 456 /usr/bin/hold fastx
7ffd1000-7ffd3000 r--p 00000000 00:00 0 [vvar]
`
	got, err := ReadOnlyMappings(strings.NewReader(maps), "/usr/bin/hold fast")
	if err != nil {
		t.Fatal(err)
	}
	want := []Mapping{{0x400000, 0x8e2000}, {0x8e2000, 0xe26000}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %x, want %x (code and read-only data only: not data, not shared, not another file)", got, want)
	}
	if _, err := ReadOnlyMappings(strings.NewReader("zz-00400000 r-xp 0 fe:01 1 /x\n"), "/x"); err == nil {
		t.Error("a bad address range parsed")
	}
}

// exeRss sums the resident kB of the test binary's read-only mappings, as
// /proc/self/smaps reports them.
func exeRss(t *testing.T) int {
	t.Helper()
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	total, in := 0, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			in = len(fields) >= 6 && strings.Join(fields[5:], " ") == exe && fields[1][1] != 'w'
			continue
		}
		if in && len(fields) == 3 && fields[0] == "Rss:" {
			kb, _ := strconv.Atoi(fields[1])
			total += kb
		}
	}
	return total
}

// Trim gives back most of the binary's resident pages, and the process
// goes on using what it needs (it reads them back). The count before the
// trim is the control: a Trim that did nothing leaves it as it was.
func TestTrimReleasesPages(t *testing.T) {
	// A test binary just linked may still be dirty in the page cache, and
	// dirty pages are not paged out: write it back first (fsync works on
	// a read-only descriptor).
	if f, err := os.Open("/proc/self/exe"); err != nil {
		t.Fatal(err)
	} else {
		err := f.Sync()
		f.Close()
		if err != nil {
			t.Fatalf("cannot write back the test binary: %v", err)
		}
	}
	before := exeRss(t)
	if before < 1024 {
		t.Fatalf("only %d kB of the test binary resident before the trim; cannot tell", before)
	}
	n, err := Trim()
	if err != nil {
		t.Fatal(err)
	}
	after := exeRss(t)
	t.Logf("trimmed %d kB of mappings: resident %d kB before, %d kB after", n>>10, before, after)
	if after > before/2 {
		t.Errorf("resident pages of the binary: %d kB after the trim, want at most half of the %d kB before", after, before)
	}
	if n == 0 {
		t.Error("Trim reports no bytes advised")
	}
}
