package config

import (
	"fmt"
	"strings"

	"github.com/holdfast-dev/holdfast/internal/subcmd"
)

// Usage is the -h text: synopsis, subcommands, every flag with its default
// and its environment twin, value syntax and exit codes.
func Usage() string {
	var b strings.Builder
	b.WriteString("holdfast runs COMMAND as a supervised app (usually as a container's PID 1).\n")
	b.WriteString("When the app crashes at startup it holds: the container stays up, with the\n")
	b.WriteString("evidence, until the crash is inspected, then released or restarted.\n\n")
	b.WriteString("Usage:\n")
	fmt.Fprintf(&b, "  %-40s %s\n", synopsis, "run COMMAND, supervised")
	for _, c := range subcmd.All {
		if len(c.Synopsis) > 40 {
			// Too long for the column: the summary goes on a line of its own.
			fmt.Fprintf(&b, "  %s\n  %-40s %s\n", c.Synopsis, "", c.Summary)
			continue
		}
		fmt.Fprintf(&b, "  %-40s %s\n", c.Synopsis, c.Summary)
	}
	b.WriteString("\nThe subcommands reach the running holdfast through the control socket in\n")
	b.WriteString("--state-dir (or HOLDFAST_STATE_DIR), given before or after the subcommand\n")
	b.WriteString("(holdfast --state-dir=DIR status). Without --, a first word that is not a\n")
	b.WriteString("subcommand, has no \"/\" and is not found on PATH is refused (exit 2) as a\n")
	b.WriteString("mistyped subcommand; after -- every word is the app's.\n\n")
	b.WriteString("Flags (-flag and --flag, --flag=value and --flag value all work; every flag\n")
	b.WriteString("has an environment twin, and a flag on the command line wins over it, even\n")
	b.WriteString("over an invalid one; a twin set to \"\" means the empty flag where that\n")
	b.WriteString("disables or clears something (HOLDFAST_SSH_ADDR= turns ssh off), else unset):\n")
	for _, f := range flags {
		b.WriteString("\n  --" + f.name)
		switch {
		case f.boolean:
			b.WriteString("[=true|false]")
		default:
			b.WriteString(" " + f.arg)
		}
		def := f.def
		if f.shown != "" {
			def = f.shown
		}
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(&b, "\n        default %s, env %s\n", def, EnvName(f.name))
		wrap(&b, f.help, "        ", 80)
	}
	b.WriteString(`
Values: durations as 300ms, 10s, 1m30s; sizes as 1048576, 512KiB, 64MiB, 1GiB
(K, M, G and KB, MB, GB are binary too); signals as TERM, SIGTERM or 15.
Write booleans as --hold=false: "--hold false" is refused, since "false" would
be taken as the command. Put -- before a command that starts with "-".

Exit status: the app's own code; 128+N when it died by signal N; 127 when
COMMAND was not found, 126 when it could not be executed; 2 for bad flags or
configuration, or when another holdfast holds the state dir.
`)
	return b.String()
}

// wrap writes text as indented lines no wider than width.
func wrap(b *strings.Builder, text, indent string, width int) {
	line := indent
	for _, w := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(w) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += w
	}
	b.WriteString(line + "\n")
}
