package attach

import (
	"bytes"
	"strings"
)

const disableFlag = "DisableAttachMechanism"

// The variables the JVM (JAVA_TOOL_OPTIONS, _JAVA_OPTIONS) and the java
// launcher (JDK_JAVA_OPTIONS) read flags from, in the order HotSpot applies
// them around the command line: JAVA_TOOL_OPTIONS first, _JAVA_OPTIONS
// last; JDK_JAVA_OPTIONS goes before the launcher's own arguments.
var (
	optionsBefore = []string{"JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS"}
	optionsAfter  = []string{"_JAVA_OPTIONS"}
)

// disabledByFlags reports whether the command line and environment (both
// NUL-separated, as in /proc/<pid>/cmdline and environ) switch attach off,
// the last -XX:±DisableAttachMechanism winning. It is the fallback when the
// JVM keeps no hsperfdata (-XX:-UsePerfData) to ask; flags in @argfiles or
// -XX:VMOptionsFile are not seen.
func disabledByFlags(cmdline, environ []byte) bool {
	env := map[string]string{}
	for _, kv := range bytes.Split(environ, []byte{0}) {
		if k, v, ok := strings.Cut(string(kv), "="); ok {
			env[k] = v
		}
	}
	var args []string
	for _, name := range optionsBefore {
		args = append(args, strings.Fields(env[name])...)
	}
	for _, a := range bytes.Split(cmdline, []byte{0}) {
		args = append(args, string(a))
	}
	for _, name := range optionsAfter {
		args = append(args, strings.Fields(env[name])...)
	}
	disabled := false
	for _, a := range args {
		switch a {
		case "-XX:+" + disableFlag:
			disabled = true
		case "-XX:-" + disableFlag:
			disabled = false
		}
	}
	return disabled
}
