package config

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// The account files --user is resolved against; tests point them elsewhere.
// They are parsed here, not through os/user, because holdfast is built with
// CGO off and the rules below are Docker's rather than libc's.
var (
	passwdFile = "/etc/passwd"
	groupFile  = "/etc/group"
)

// resolveUser turns "user[:group]" into a credential with the rules of
// Docker and runc (moby/sys user.GetExecUser):
//   - a name must be in /etc/passwd; a number need not be, and matches the
//     entry with that uid when there is one;
//   - without a group, the gid is the user's primary gid from /etc/passwd, or
//     0 for a uid that has no entry; the supplementary groups are those
//     /etc/group lists the user in;
//   - with a group (name or number, same rule), it is the only group.
func resolveUser(spec string) (*syscall.Credential, error) {
	usr, grp, hasGroup := strings.Cut(spec, ":")
	if usr == "" {
		return nil, errors.New("want USER[:GROUP]: the user is empty")
	}
	if hasGroup && grp == "" {
		return nil, errors.New("want USER[:GROUP]: the group is empty")
	}
	uid, uidNumeric, err := parseID(usr)
	if err != nil {
		return nil, err
	}

	users, err := readColonFile(passwdFile)
	if err != nil && (!uidNumeric || !errors.Is(err, fs.ErrNotExist)) {
		return nil, err
	}
	cred := &syscall.Credential{Uid: uid}
	name := ""
	if u := findEntry(users, usr, uidNumeric, uid); u != nil {
		name = u[0]
		var uidOK, gidOK bool
		cred.Uid, uidOK = entryID(u[2])
		cred.Gid, gidOK = entryID(u[3])
		if !uidOK || !gidOK {
			// Never fall back to 0 (root) on a malformed entry.
			return nil, fmt.Errorf("entry %q in %s has a bad uid or gid", name, passwdFile)
		}
	} else if !uidNumeric {
		return nil, fmt.Errorf("no user %q in %s", usr, passwdFile)
	}

	if !hasGroup && name == "" {
		return cred, nil // a bare uid without an entry: gid 0, no other groups
	}
	gid, gidNumeric, err := parseID(grp)
	if err != nil {
		return nil, err
	}
	groups, err := readColonFile(groupFile)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil && hasGroup && !gidNumeric {
		return nil, err
	}
	if hasGroup {
		cred.Gid = gid
		if g := findEntry(groups, grp, gidNumeric, gid); g != nil {
			var ok bool
			if cred.Gid, ok = entryID(g[2]); !ok {
				return nil, fmt.Errorf("entry %q in %s has a bad gid", g[0], groupFile)
			}
		} else if !gidNumeric {
			return nil, fmt.Errorf("no group %q in %s", grp, groupFile)
		}
		return cred, nil
	}
	for _, g := range groups {
		if len(g) < 4 || !slices.Contains(strings.Split(g[3], ","), name) {
			continue
		}
		if id, ok := entryID(g[2]); ok && !slices.Contains(cred.Groups, id) {
			cred.Groups = append(cred.Groups, id)
		}
	}
	return cred, nil
}

// parseID reports whether s is a number and, if so, its value. A number out
// of range is an error; -1 (4294967295) is excluded because setresuid(2)
// reads it as "leave unchanged".
func parseID(s string) (uint32, bool, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false, nil
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == math.MaxUint32 {
		return 0, true, fmt.Errorf("id %s is out of range", s)
	}
	return uint32(n), true, nil
}

// entryID is an id field of an account file; ok is false unless it is a
// valid id.
func entryID(s string) (id uint32, ok bool) {
	id, ok, err := parseID(s)
	return id, ok && err == nil
}

// findEntry finds the first passwd or group entry named key or, when key is
// numeric, with that id in field 2 (the first match wins, as in libc).
func findEntry(entries [][]string, key string, numeric bool, id uint32) []string {
	for _, e := range entries {
		if e[0] == key {
			return e
		}
		if numeric {
			if n, ok := entryID(e[2]); ok && n == id {
				return e
			}
		}
	}
	return nil
}

// readColonFile reads passwd(5) or group(5) lines with at least 4 fields,
// skipping blank lines, comments and NIS "+"/"-" entries.
func readColonFile(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // a *PathError: "open /etc/passwd: no such file or directory"
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20) // group lines can list many members
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '+' || line[0] == '-' {
			continue
		}
		if fields := strings.Split(line, ":"); len(fields) >= 4 && fields[0] != "" {
			out = append(out, fields)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	return out, nil
}
