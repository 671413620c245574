package config

import (
	"strings"
	"testing"

	"github.com/holdfast-dev/holdfast/internal/subcmd"
)

// documented reports what Usage lacks for a flag: its name, its env twin,
// its default or its help.
func documented(usage string, f *flagSpec) []string {
	var missing []string
	if !strings.Contains(usage, "--"+f.name+" ") && !strings.Contains(usage, "--"+f.name+"[") {
		missing = append(missing, "--"+f.name)
	}
	def := f.def
	if f.shown != "" {
		def = f.shown
	}
	if def == "" {
		def = `""`
	}
	if !strings.Contains(usage, "default "+def+", env "+EnvName(f.name)+"\n") {
		missing = append(missing, "default "+def+" and env "+EnvName(f.name))
	}
	if len(strings.Fields(f.help)) < 3 || !strings.Contains(usage, strings.Fields(f.help)[0]) {
		missing = append(missing, "help text")
	}
	return missing
}

// TestUsageDocumentsEveryFlag walks the flag table, so a new flag without a
// default, env twin or help in the -h text fails here.
func TestUsageDocumentsEveryFlag(t *testing.T) {
	u := Usage()
	for _, f := range flags {
		if missing := documented(u, f); len(missing) > 0 {
			t.Errorf("Usage() lacks %v for --%s", missing, f.name)
		}
	}
	// Negative control: a flag that is not in the text is caught.
	ghost := &flagSpec{name: "ghost-flag", def: "1s", help: "does not exist anywhere"}
	if missing := documented(u, ghost); len(missing) != 3 {
		t.Errorf("the check missed an undocumented flag: %v", missing)
	}
	for _, c := range subcmd.All {
		if !strings.Contains(u, c.Synopsis) {
			t.Errorf("Usage() lacks subcommand %q", c.Synopsis)
		}
	}
	for _, want := range []string{synopsis, "--hold=false", "128+N", "127", "126", "64MiB"} {
		if !strings.Contains(u, want) {
			t.Errorf("Usage() lacks %q", want)
		}
	}
	for i, line := range strings.Split(u, "\n") {
		if len(line) > 80 {
			t.Errorf("Usage() line %d is %d wide: %q", i+1, len(line), line)
		}
	}
}
