package main

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"

	"github.com/holdfast-dev/holdfast/internal/subcmd"
)

// subcommands are the client commands subcommand dispatches; "version" and
// "help" are handled by run itself.
var subcommands = subcmd.ClientNames()

// suggestable are the words a typo is compared with: every row of the table.
var suggestable = subcmd.Names()

func isSubcommand(w string) bool { return slices.Contains(subcommands, w) }

// notACommand reports whether w cannot be an app's command: it has no "/"
// and is not found on PATH. Such a first word is taken for a mistyped
// subcommand, not run.
func notACommand(w string) bool {
	if strings.Contains(w, "/") {
		return false
	}
	_, err := exec.LookPath(w)
	return err != nil
}

// unknownWord is the message for a first word that is neither a subcommand
// nor a command.
func unknownWord(w string) string {
	msg := fmt.Sprintf("holdfast: %q is not a subcommand, and no command %q is on PATH", w, w)
	if s := suggest(w); s != "" {
		msg += fmt.Sprintf("; did you mean %s?", s)
	} else {
		msg += fmt.Sprintf("; the subcommands are %s, version and help", strings.Join(subcommands, ", "))
	}
	return msg + "\nTo run a program as the app, give its path or put -- before it (holdfast -- " + w + "). Run 'holdfast help' for usage."
}

// suggest is the subcommand closest to w, when it is close: at most two
// edits (a swap of two neighbours counts as one), and fewer than the word
// has letters.
func suggest(w string) string {
	best, bestD := "", 3
	lw := strings.ToLower(w)
	for _, s := range suggestable {
		if d := editDistance(lw, s); d < bestD && d < len(s) {
			best, bestD = s, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance of a and b:
// insertions, deletions, substitutions and swaps of adjacent bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64 // no subcommand is that long
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
