package listen

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Listener is one listening TCP socket held by a process of the tree.
type Listener struct {
	PID  int
	Addr netip.AddrPort
}

func (l Listener) String() string { return fmt.Sprintf("%s (pid %d)", l.Addr, l.PID) }

// procRoot is where /proc is; tests of pure parsing never change it.
const procRoot = "/proc"

// Listening returns the listening TCP sockets (IPv4 and IPv6) held by root
// or any of its descendants, sorted by port then address. None is an empty
// result, not an error; a root that does not exist, or whose open files
// this process may not read, is an error. A descendant that cannot be read
// (it exited, or runs as another user) is skipped.
func Listening(root int) ([]Listener, error) {
	pids, err := Tree(root)
	if err != nil {
		return nil, err
	}
	// inode → holder, and one pid per network namespace to read its
	// tables through.
	holders := map[uint64]int{}
	netns := map[string]int{}
	for _, pid := range pids {
		inodes, err := socketInodes(pid)
		if err != nil {
			if pid == root && errors.Is(err, os.ErrPermission) {
				// "Not listening" would be a guess: say so.
				return nil, fmt.Errorf("listen: process %d: %w", root, err)
			}
			continue // exited, or not ours to read
		}
		if len(inodes) == 0 {
			continue
		}
		for _, ino := range inodes {
			if _, ok := holders[ino]; !ok {
				holders[ino] = pid
			}
		}
		ns, err := os.Readlink(procRoot + "/" + strconv.Itoa(pid) + "/ns/net")
		if err != nil {
			continue
		}
		if _, ok := netns[ns]; !ok {
			netns[ns] = pid
		}
	}
	var out []Listener
	for _, pid := range netns {
		for _, table := range []string{"tcp", "tcp6"} {
			f, err := os.Open(procRoot + "/" + strconv.Itoa(pid) + "/net/" + table)
			if err != nil {
				continue // no IPv6, or the process went
			}
			socks, err := ParseTCP(f)
			f.Close()
			if err != nil {
				return nil, err
			}
			for _, s := range socks {
				if h, ok := holders[s.Inode]; ok && s.State == StateListen {
					out = append(out, Listener{PID: h, Addr: s.Local})
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b Listener) int {
		if a.Addr.Port() != b.Addr.Port() {
			return int(a.Addr.Port()) - int(b.Addr.Port())
		}
		return a.Addr.Addr().Compare(b.Addr.Addr())
	})
	return slices.Compact(out), nil
}

// Tree returns root and all its descendants (root first). It scans the
// parent pid of every process in /proc once.
func Tree(root int) ([]int, error) {
	if _, err := os.Stat(procRoot + "/" + strconv.Itoa(root)); err != nil {
		return nil, fmt.Errorf("listen: process %d: %w", root, err)
	}
	d, err := os.Open(procRoot)
	if err != nil {
		return nil, err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, err
	}
	children := map[int][]int{}
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		data, err := os.ReadFile(procRoot + "/" + n + "/stat")
		if err != nil {
			continue
		}
		ppid, err := ParsePPID(data)
		if err != nil {
			continue
		}
		children[ppid] = append(children[ppid], pid)
	}
	out := []int{root}
	seen := map[int]bool{root: true}
	for i := 0; i < len(out); i++ {
		for _, c := range children[out[i]] {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// ParsePPID reads the parent pid from the content of /proc/<pid>/stat. The
// command name in parentheses may hold spaces and parentheses, so the
// fields are counted from the last ')'.
func ParsePPID(stat []byte) (int, error) {
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("listen: malformed stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, errors.New("listen: malformed stat")
	}
	return strconv.Atoi(f[1])
}

// socketInodes returns the inodes of the sockets among pid's open files.
func socketInodes(pid int) ([]uint64, error) {
	dir := procRoot + "/" + strconv.Itoa(pid) + "/fd"
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, err
	}
	var out []uint64
	for _, n := range names {
		target, err := os.Readlink(dir + "/" + n)
		if err != nil {
			continue
		}
		if ino, ok := socketInode(target); ok {
			out = append(out, ino)
		}
	}
	return out, nil
}

// socketInode parses a /proc/<pid>/fd link target "socket:[12345]".
func socketInode(target string) (uint64, bool) {
	rest, ok := strings.CutPrefix(target, "socket:[")
	if !ok {
		return 0, false
	}
	rest, ok = strings.CutSuffix(rest, "]")
	if !ok {
		return 0, false
	}
	ino, err := strconv.ParseUint(rest, 10, 64)
	return ino, err == nil
}

// StateListen is the TCP state of a listening socket in /proc/net/tcp.
const StateListen = 0x0A

// Socket is one line of /proc/net/tcp or tcp6.
type Socket struct {
	Local, Remote netip.AddrPort
	State         int
	Inode         uint64
}

// ParseTCP reads a /proc/net/tcp or tcp6 table. Addresses there are
// written as the kernel holds them: each 32-bit word of the address in the
// host's byte order, the port as a number.
func ParseTCP(r io.Reader) ([]Socket, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<16)
	var out []Socket
	first := true
	for sc.Scan() {
		if first { // the header line
			first = false
			continue
		}
		f := strings.Fields(sc.Text())
		if len(f) < 10 {
			continue
		}
		local, err1 := parseHexAddr(f[1])
		remote, err2 := parseHexAddr(f[2])
		state, err3 := strconv.ParseUint(f[3], 16, 8)
		inode, err4 := strconv.ParseUint(f[9], 10, 64)
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			return nil, fmt.Errorf("listen: malformed tcp line %q: %w", sc.Text(), err)
		}
		out = append(out, Socket{Local: local, Remote: remote, State: int(state), Inode: inode})
	}
	return out, sc.Err()
}

// parseHexAddr parses "0100007F:1F90" (IPv4) or a 32-hex-digit IPv6
// address and port.
func parseHexAddr(s string) (netip.AddrPort, error) {
	a, p, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("no port in %q", s)
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	raw, err := hex.DecodeString(a)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", a)
	}
	// Each word was printed as a host-order number: turn the printed
	// big-endian digits back into the word, and the word into its bytes
	// in memory order.
	b := make([]byte, len(raw))
	for i := 0; i < len(raw); i += 4 {
		binary.NativeEndian.PutUint32(b[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	addr, _ := netip.AddrFromSlice(b)
	return netip.AddrPortFrom(addr, uint16(port)), nil
}
