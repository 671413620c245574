package jvmsize

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

const (
	kib = 1 << 10
	mib = 1 << 20
	gib = 1 << 30
)

// HotSpot constants on 64-bit Linux (JDK 17).
const (
	// defaultMaxHeap is MaxHeapSize's built-in value, ScaleForWordSize(96M):
	// the least heap a machine with more than about 250 MB gets.
	defaultMaxHeap = (96 * mib * 13 / 10) &^ 7
	// defaultMaxRAM bounds the memory the defaults are a share of.
	defaultMaxRAM = 128 * gib
	// maxCompressedOopsHeap is the largest default heap that keeps
	// compressed oops: 32 GiB of encoding range less the heap base (2 GiB)
	// and the null page's displacement.
	maxCompressedOopsHeap = 32*gib - 2*gib - 32*mib
	// cardAlignment is the heap alignment every collector needs at least
	// (card size 512 × page size 4 KiB).
	cardAlignment = 2 * mib
	// serverMemory is the least memory of a "server class machine", where
	// G1 is the default collector (else Serial).
	serverMemory = 2*gib - 256*mib
)

// Input is what the JVM is started with.
type Input struct {
	// Argv is the app's command line, argv[0] included. JDK_JAVA_OPTIONS
	// applies only when argv[0] is the java launcher.
	Argv []string
	// Env holds the environment in "KEY=value" form; only
	// JAVA_TOOL_OPTIONS, JDK_JAVA_OPTIONS and _JAVA_OPTIONS are read.
	Env []string
	// Limit is the container's memory limit in bytes; 0 means none.
	Limit uint64
	// HostMemory is the machine's physical memory (MemTotal) in bytes.
	HostMemory uint64
	// CPUs is the number of processors the JVM may use; 0 means several.
	CPUs int
}

// Result is the JVM's maximum heap and where it comes from.
type Result struct {
	MaxHeap uint64 `json:"max_heap"` // bytes, as -XX:+PrintFlagsFinal shows MaxHeapSize
	Limit   uint64 `json:"limit"`    // the container's limit; 0 = none
	// Memory is the memory the JVM sizes its default heap against: the
	// limit, the host's memory or -XX:MaxRAM.
	Memory uint64 `json:"memory"`
	// Source says where MaxHeap comes from, e.g. "-Xmx2g in
	// JAVA_TOOL_OPTIONS" or "default: 25% of 1.0 GiB".
	Source string `json:"source"`
	// Explicit is true when a -Xmx or -XX:MaxHeapSize set the heap.
	Explicit bool `json:"explicit"`
	// ReachesLimit is true when the heap alone is at least the limit:
	// the kernel will OOM-kill the JVM before it throws OutOfMemoryError.
	ReachesLimit bool `json:"reaches_limit"`
	// Ignored lists options the model does not follow (an @argfile,
	// -XX:Flags=...): the answer may be wrong when they change the heap.
	Ignored []string `json:"ignored,omitempty"`
}

// IsJava reports whether argv[0] is the java launcher.
func IsJava(argv []string) bool {
	return len(argv) > 0 && filepath.Base(argv[0]) == "java"
}

// option is one value an option set, and where.
type option struct {
	value string
	where string
}

// flags are the options that size the heap, each the last one seen.
type flags struct {
	maxHeap, initialHeap, minHeap, maxRAM                 option
	maxRAMPct, minRAMPct, initialRAMPct                   option
	maxRAMFrac, minRAMFrac, initialRAMFrac, ergoHeapLimit option
	containerSupport, compressedOops                      option
	gc                                                    string
	ignored                                               []string
}

// Compute works out the JVM's maximum heap.
func Compute(in Input) (Result, error) {
	var f flags
	env := envMap(in.Env)
	f.scan(SplitOptions(env["JAVA_TOOL_OPTIONS"]), "JAVA_TOOL_OPTIONS")
	if IsJava(in.Argv) {
		f.scan(SplitOptions(env["JDK_JAVA_OPTIONS"]), "JDK_JAVA_OPTIONS")
	}
	if len(in.Argv) > 1 {
		f.scan(vmOptions(in.Argv[1:]), "the command line")
	}
	f.scan(SplitOptions(env["_JAVA_OPTIONS"]), "_JAVA_OPTIONS")
	return f.compute(in)
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// SplitOptions splits an options variable as the JVM does: on white space,
// with single or double quotes around a value that holds spaces.
func SplitOptions(s string) []string {
	var out []string
	var cur strings.Builder
	in, quote := false, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// launcherWithArg are the java launcher's options that take the next
// argument as their value.
var launcherWithArg = map[string]bool{
	"-cp": true, "-classpath": true, "--class-path": true,
	"-p": true, "--module-path": true, "--upgrade-module-path": true,
	"--add-modules": true, "--limit-modules": true, "--add-reads": true,
	"--add-exports": true, "--add-opens": true, "--patch-module": true,
	"--enable-native-access": true, "--source": true,
	"-d": true, "--describe-module": true,
}

// vmOptions returns the options before the main class, -jar file or
// module: what the launcher passes to the JVM (and its own).
func vmOptions(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "-jar" || a == "-m" || a == "--module" || strings.HasPrefix(a, "--module="):
			return out
		case !strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "@"):
			return out // the main class or source file
		case launcherWithArg[a]:
			i++
		default:
			out = append(out, a)
		}
	}
	return out
}

func (f *flags) scan(opts []string, where string) {
	for _, o := range opts {
		f.one(o, where)
	}
}

func (f *flags) one(o, where string) {
	set := func(p *option, v string) { *p = option{value: v, where: where} }
	switch {
	case strings.HasPrefix(o, "-Xmx"):
		set(&f.maxHeap, o[4:])
	case strings.HasPrefix(o, "-Xms"):
		set(&f.initialHeap, o[4:])
	case strings.HasPrefix(o, "@") || strings.HasPrefix(o, "-XX:Flags=") ||
		strings.HasPrefix(o, "-XX:VMOptionsFile="):
		f.ignored = append(f.ignored, o+" in "+where)
	case strings.HasPrefix(o, "-XX:+") || strings.HasPrefix(o, "-XX:-"):
		f.boolFlag(o[5:], o[4] == '+', where)
	case strings.HasPrefix(o, "-XX:"):
		name, v, ok := strings.Cut(o[4:], "=")
		if !ok {
			return
		}
		targets := map[string]*option{
			"MaxHeapSize": &f.maxHeap, "InitialHeapSize": &f.initialHeap,
			"MinHeapSize": &f.minHeap, "MaxRAM": &f.maxRAM,
			"MaxRAMPercentage": &f.maxRAMPct, "MinRAMPercentage": &f.minRAMPct,
			"InitialRAMPercentage": &f.initialRAMPct, "MaxRAMFraction": &f.maxRAMFrac,
			"MinRAMFraction": &f.minRAMFrac, "InitialRAMFraction": &f.initialRAMFrac,
			"ErgoHeapSizeLimit": &f.ergoHeapLimit,
		}
		if p, ok := targets[name]; ok {
			set(p, v)
		}
	}
}

func (f *flags) boolFlag(name string, on bool, where string) {
	v := option{value: strconv.FormatBool(on), where: where}
	switch name {
	case "UseContainerSupport":
		f.containerSupport = v
	case "UseCompressedOops":
		f.compressedOops = v
	case "UseSerialGC", "UseParallelGC", "UseG1GC", "UseZGC", "UseShenandoahGC", "UseEpsilonGC":
		if on {
			f.gc = strings.TrimSuffix(strings.TrimPrefix(name, "Use"), "GC")
		} else if f.gc == strings.TrimSuffix(strings.TrimPrefix(name, "Use"), "GC") {
			f.gc = ""
		}
	}
}

// ParseSize parses a HotSpot memory size: digits and an optional k, m, g
// or t (either case).
func ParseSize(s string) (uint64, error) {
	if s == "" {
		return 0, errors.New("jvmsize: empty size")
	}
	mult := uint64(1)
	switch s[len(s)-1] {
	case 'k', 'K':
		mult = kib
	case 'm', 'M':
		mult = mib
	case 'g', 'G':
		mult = gib
	case 't', 'T':
		mult = 1 << 40
	}
	if mult != 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("jvmsize: bad size %q", s)
	}
	if n > ^uint64(0)/mult {
		return 0, fmt.Errorf("jvmsize: size %q overflows", s)
	}
	return n * mult, nil
}

func (o option) set() bool { return o.where != "" }

func (o option) size() (uint64, error) {
	v, err := ParseSize(o.value)
	if err != nil {
		return 0, fmt.Errorf("%w (in %s)", err, o.where)
	}
	return v, nil
}

// percent reads a percentage option, or 100/fraction from its deprecated
// fraction twin, or def.
func percent(pct, frac option, def float64) (float64, error) {
	if pct.set() {
		v, err := strconv.ParseFloat(pct.value, 64)
		if err != nil || v < 0 || v > 100 {
			return 0, fmt.Errorf("jvmsize: bad percentage %q (in %s)", pct.value, pct.where)
		}
		return v, nil
	}
	if frac.set() {
		v, err := strconv.ParseUint(frac.value, 10, 64)
		if err != nil || v == 0 {
			return 0, fmt.Errorf("jvmsize: bad fraction %q (in %s)", frac.value, frac.where)
		}
		return 100 / float64(v), nil
	}
	return def, nil
}

func (f *flags) compute(in Input) (Result, error) {
	r := Result{Limit: in.Limit, Ignored: f.ignored}
	// The memory the OS layer reports: the container's limit when
	// container support is on and the limit is below the host's memory.
	osMemory := in.HostMemory
	if f.containerSupport.value != "false" && in.Limit > 0 && in.Limit < in.HostMemory {
		osMemory = in.Limit
	}
	gc := f.gc
	if gc == "" {
		gc = "Serial"
		if in.CPUs != 1 && osMemory >= serverMemory {
			gc = "G1"
		}
	}

	var heap uint64
	if f.maxHeap.set() {
		v, err := f.maxHeap.size()
		if err != nil {
			return r, err
		}
		heap, r.Explicit = v, true
		r.Source = fmt.Sprintf("-Xmx%s in %s", f.maxHeap.value, f.maxHeap.where)
		r.Memory = osMemory
	} else {
		var err error
		if heap, err = f.ergonomic(osMemory, &r); err != nil {
			return r, err
		}
	}
	if f.initialHeap.set() {
		v, err := f.initialHeap.size()
		if err != nil {
			return r, err
		}
		if r.Explicit && v > heap {
			return r, fmt.Errorf("jvmsize: -Xms%s (in %s) is above -Xmx%s: the JVM will not start",
				f.initialHeap.value, f.initialHeap.where, f.maxHeap.value)
		}
	}
	r.MaxHeap = alignUp(heap, heapAlignment(gc, heap))
	r.ReachesLimit = in.Limit > 0 && r.MaxHeap >= in.Limit
	return r, nil
}

// ergonomic is HotSpot's Arguments::set_heap_size for a heap not given.
func (f *flags) ergonomic(osMemory uint64, r *Result) (uint64, error) {
	override := f.maxRAMPct.set() || f.maxRAMFrac.set() || f.minRAMPct.set() ||
		f.minRAMFrac.set() || f.initialRAMPct.set() || f.initialRAMFrac.set() || f.maxRAM.set()
	mem := min(osMemory, defaultMaxRAM)
	if override {
		mem = osMemory
	}
	if f.maxRAM.set() {
		v, err := f.maxRAM.size()
		if err != nil {
			return 0, err
		}
		mem = v
	}
	r.Memory = mem
	maxPct, err := percent(f.maxRAMPct, f.maxRAMFrac, 25)
	if err != nil {
		return 0, err
	}
	minPct, err := percent(f.minRAMPct, f.minRAMFrac, 50)
	if err != nil {
		return 0, err
	}
	heap := uint64(float64(mem) * maxPct / 100)
	small := uint64(float64(mem) * minPct / 100)
	r.Source = fmt.Sprintf("default: %s%% of %s", fmtPct(maxPct), HumanBytes(mem))
	if small < defaultMaxHeap {
		heap = small
		r.Source = fmt.Sprintf("default for small memory: %s%% of %s", fmtPct(minPct), HumanBytes(mem))
	} else if heap < defaultMaxHeap {
		heap = defaultMaxHeap
		r.Source = fmt.Sprintf("default minimum heap (%s of %s)", HumanBytes(heap), HumanBytes(mem))
	}
	if f.ergoHeapLimit.set() {
		v, err := f.ergoHeapLimit.size()
		if err != nil {
			return 0, err
		}
		if v != 0 && v < heap {
			heap = v
			r.Source = "-XX:ErgoHeapSizeLimit in " + f.ergoHeapLimit.where
		}
	}
	if heap > maxCompressedOopsHeap && f.compressedOops.value != "false" &&
		(!override || f.compressedOops.value == "true") {
		heap = maxCompressedOopsHeap
		r.Source += ", capped for compressed oops"
	}
	for _, o := range []option{f.initialHeap, f.minHeap} {
		if o.set() {
			v, err := o.size()
			if err != nil {
				return 0, err
			}
			if v > heap {
				heap = v
				r.Source = fmt.Sprintf("%s, raised by the initial heap in %s", r.Source, o.where)
			}
			break // -Xms wins over -XX:MinHeapSize
		}
	}
	return heap, nil
}

// heapAlignment is the collector's heap alignment for a heap of this size:
// the card table's 2 MiB, or G1's region size when larger (max heap / 2048
// rounded up to a power of two, 1 to 32 MiB).
func heapAlignment(gc string, heap uint64) uint64 {
	if gc != "G1" {
		return cardAlignment
	}
	region := min(max(heap/2048, mib), 32*mib)
	p := uint64(mib)
	for p < region {
		p <<= 1
	}
	return max(p, cardAlignment)
}

func alignUp(v, a uint64) uint64 { return (v + a - 1) / a * a }

func fmtPct(p float64) string {
	return strings.TrimRight(strings.TrimRight(strconv.FormatFloat(p, 'f', 2, 64), "0"), ".")
}

// HumanBytes writes a size in binary units with one decimal.
func HumanBytes(b uint64) string {
	switch {
	case b >= gib:
		return fmt.Sprintf("%.1f GiB", float64(b)/gib)
	case b >= mib:
		return fmt.Sprintf("%.1f MiB", float64(b)/mib)
	case b >= kib:
		return fmt.Sprintf("%.1f KiB", float64(b)/kib)
	}
	return fmt.Sprintf("%d B", b)
}
