package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/holdfast-dev/holdfast/launcher"
)

// The parsers return bare reasons; the caller adds the flag and the value.

func parseBool(v string) (bool, error) {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errors.New("want true or false")
	}
	return b, nil
}

// parseDuration takes Go duration syntax (300ms, 10s, 1m30s). "0" is allowed
// unless positive is set; a negative value never is.
func parseDuration(v string, positive bool) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, errors.New("must not be negative")
	}
	if positive && d == 0 {
		return 0, errors.New("must be greater than 0")
	}
	return d, nil
}

func parseCount(v string, minimum int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, errors.New("want a whole number")
	}
	if n < 0 {
		return 0, errors.New("must not be negative")
	}
	if n < minimum {
		return 0, fmt.Errorf("must be at least %d", minimum)
	}
	return n, nil
}

func parseChoice(v string, choices ...string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	for _, c := range choices {
		if s == c {
			return c, nil
		}
	}
	return "", fmt.Errorf("want %s", strings.Join(choices, ", or "))
}

func parseNonEmpty(v string) (string, error) {
	if v == "" {
		return "", errors.New("must not be empty")
	}
	return v, nil
}

// sizeUnits are all binary. "64MB" means 64 MiB here, as in Java's -Xmx64m
// and Docker's memory sizes, because a log cap has no use for powers of ten.
var sizeUnits = map[string]int64{
	"": 1, "B": 1,
	"K": 1 << 10, "KB": 1 << 10, "KI": 1 << 10, "KIB": 1 << 10,
	"M": 1 << 20, "MB": 1 << 20, "MI": 1 << 20, "MIB": 1 << 20,
	"G": 1 << 30, "GB": 1 << 30, "GI": 1 << 30, "GIB": 1 << 30,
}

// parseSize takes a whole number of bytes with an optional binary unit:
// 1048576, 512KiB, 64MiB, 1GiB, 64M, 1g.
func parseSize(v string, minimum int64) (int64, error) {
	s := strings.TrimSpace(v)
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	mult, ok := sizeUnits[strings.ToUpper(s[i:])]
	if i == 0 || !ok {
		return 0, errors.New("want a size such as 1048576, 512KiB, 64MiB or 1GiB")
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, errors.New("too large")
	}
	if n*mult < minimum {
		return 0, fmt.Errorf("must be at least %d bytes", minimum)
	}
	return n * mult, nil
}

func parseSignal(v string) (syscall.Signal, error) {
	return launcher.ParseSignal(v)
}

// parseParentDeathSignal takes "" (none) or a signal holdfast can act on:
// SIGSTOP would freeze holdfast itself.
func parseParentDeathSignal(v string) (syscall.Signal, error) {
	if v == "" {
		return 0, nil
	}
	sig, err := launcher.ParseSignal(v)
	if err == nil && sig == syscall.SIGSTOP {
		err = fmt.Errorf("%s would stop holdfast itself", launcher.SignalName(sig))
	}
	return sig, err
}

// parseSignalMap reads "FROM:TO,FROM:TO". An empty string is an empty map.
func parseSignalMap(v string) (map[syscall.Signal]syscall.Signal, error) {
	m := map[syscall.Signal]syscall.Signal{}
	if strings.TrimSpace(v) == "" {
		return m, nil
	}
	for entry := range strings.SplitSeq(v, ",") {
		from, to, ok := strings.Cut(strings.TrimSpace(entry), ":")
		if !ok || from == "" || to == "" {
			return nil, fmt.Errorf("entry %q: want FROM:TO, e.g. TERM:QUIT", entry)
		}
		fs, err := launcher.ParseSignal(from)
		if err != nil {
			return nil, fmt.Errorf("entry %q: %w", entry, err)
		}
		ts, err := launcher.ParseSignal(to)
		if err != nil {
			return nil, fmt.Errorf("entry %q: %w", entry, err)
		}
		switch fs {
		case syscall.SIGKILL, syscall.SIGSTOP:
			// signal(7): these cannot be caught, so holdfast never sees them.
			return nil, fmt.Errorf("entry %q: %s cannot be caught, so it is never forwarded", entry, launcher.SignalName(fs))
		case syscall.SIGCHLD, syscall.SIGURG:
			// SIGCHLD drives holdfast's reaper; SIGURG is the Go runtime's
			// preemption signal. Neither is forwarded, so a mapping would
			// silently do nothing.
			return nil, fmt.Errorf("entry %q: holdfast never forwards %s", entry, launcher.SignalName(fs))
		}
		if _, dup := m[fs]; dup {
			return nil, fmt.Errorf("entry %q: %s is mapped twice", entry, launcher.SignalName(fs))
		}
		m[fs] = ts
	}
	return m, nil
}

// parseAddr takes "" (disabled) or a listen address host:port with a
// numeric port; the host is not resolved.
func parseAddr(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return "", fmt.Errorf("want HOST:PORT or :PORT (%w)", err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return v, nil
}

// parseURL takes "" (unset) or an absolute http or https URL with a host.
func parseURL(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil {
		return "", err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", errors.New("want an http:// or https:// URL")
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", errors.New("the URL has no host")
	}
	return v, nil
}
