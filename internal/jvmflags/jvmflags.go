package jvmflags

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The JVM flags holdfast adds. Inside a container the JVM's pid repeats
// from one start to the next (java is pid 12-14 every launch), so with the
// default names a second OutOfMemoryError finds java_pid13.hprof already
// there ("Unable to create ...: File exists") and loses its dump, and the
// next hs_err overwrites the last. A directory per run avoids both.
const (
	heapDumpOnOOM = "HeapDumpOnOutOfMemoryError"
	heapDumpPath  = "HeapDumpPath"
	errorFile     = "ErrorFile"
	toolOptions   = "JAVA_TOOL_OPTIONS"
)

// optionVars are the variables a user may set JVM flags in. The VM reads
// JAVA_TOOL_OPTIONS and _JAVA_OPTIONS; the java launcher (JDK 9+) reads
// JDK_JAVA_OPTIONS.
var optionVars = []string{toolOptions, "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS"}

// IsJava reports whether argv runs a JVM by basename (java), for --jvm=auto
// and the SIGQUIT-before-KILL rule.
func IsJava(argv []string) bool {
	return len(argv) > 0 && filepath.Base(argv[0]) == "java"
}

// Env returns env with JAVA_TOOL_OPTIONS extended by the evidence flags
// for one run, and whether it added any. mode is "auto" (only when IsJava),
// "on" or "off". A flag the user already set (in JAVA_TOOL_OPTIONS,
// JDK_JAVA_OPTIONS, _JAVA_OPTIONS or argv, enabled or disabled) is not
// added. Existing JAVA_TOOL_OPTIONS content is kept verbatim, ours after it.
//
// evidenceDir is the directory our HeapDumpPath/ErrorFile point at: runDir,
// or with runDir "" (memory mode) or not creatable, os.TempDir()/
// holdfast-evidence/<run> (a fresh sibling when that one already holds
// files). It is "" when neither path flag was added.
func Env(mode string, argv, env []string, runDir string, run int) (newEnv []string, evidenceDir string, applied bool) {
	if !Applies(mode, argv, env) {
		return env, "", false
	}
	dir := makeEvidenceDir(runDir, run)
	if dir == "" {
		return env, "", false
	}
	newEnv, evidenceDir = withFlags(argv, env, dir)
	return newEnv, evidenceDir, true
}

// EnvFor is what Env gave a run whose evidence dir was dir, without making
// anything: the environment the run's JVM got, for a report made after it
// ended. It returns env unchanged when Env adds nothing for mode or dir is "".
func EnvFor(mode string, argv, env []string, dir string) []string {
	if dir == "" || !Applies(mode, argv, env) {
		return env
	}
	newEnv, _ := withFlags(argv, env, dir)
	return newEnv
}

// withFlags adds the evidence flags pointing at dir.
func withFlags(argv, env []string, dir string) (newEnv []string, evidenceDir string) {
	user := userFlags(argv, env)
	var add []string
	if !user[heapDumpOnOOM] {
		add = append(add, "-XX:+"+heapDumpOnOOM)
	}
	if !user[heapDumpPath] {
		// An existing directory: the JVM writes java_pid<pid>.hprof in it.
		add = append(add, quote("-XX:"+heapDumpPath+"="+dir))
		evidenceDir = dir
	}
	if !user[errorFile] {
		// ErrorFile expands %p and turns %% into % (HotSpot
		// Arguments::copy_expand_pid), so a % in the path is doubled.
		p := strings.ReplaceAll(dir, "%", "%%") + "/hs_err_pid%p.log"
		add = append(add, quote("-XX:"+errorFile+"="+p))
		evidenceDir = dir
	}
	value := strings.Join(add, " ")
	if old, ok := lookup(env, toolOptions); ok && old != "" {
		value = old + " " + value
	}
	newEnv = make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, toolOptions+"=") {
			newEnv = append(newEnv, kv)
		}
	}
	return append(newEnv, toolOptions+"="+value), evidenceDir
}

// Applies reports whether Env adds any flag for mode, argv and env:
// the caller then makes the directory they point at.
func Applies(mode string, argv, env []string) bool {
	switch strings.ToLower(mode) {
	case "on":
	case "auto":
		if !IsJava(argv) {
			return false
		}
	default:
		return false
	}
	user := userFlags(argv, env)
	return !user[heapDumpOnOOM] || !user[heapDumpPath] || !user[errorFile]
}

// lookup returns the last value of key in env: os/exec keeps the last
// of duplicate entries, so that is the one the app sees.
func lookup(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v, true
		}
	}
	return "", false
}

// userFlags returns the -XX flag names the user set in the option
// variables or on the java command line.
func userFlags(argv, env []string) map[string]bool {
	set := map[string]bool{}
	for _, key := range optionVars {
		if v, ok := lookup(env, key); ok {
			for _, tok := range split(v) {
				if name, ok := flagName(tok); ok {
					set[name] = true
				}
			}
		}
	}
	if !IsJava(argv) {
		return set
	}
	for i := 1; i < len(argv); i++ {
		tok := argv[i]
		switch {
		case tok == "-jar" || tok == "-m" || tok == "--module" || strings.HasPrefix(tok, "--module="):
			return set // what follows is the app's
		case valueOptions[tok]:
			i++ // skip the option's value
		case !strings.HasPrefix(tok, "-"):
			return set // the main class or source file; the rest is the app's
		default:
			if name, ok := flagName(tok); ok {
				set[name] = true
			}
		}
	}
	return set
}

// valueOptions are java launcher options whose value is the next
// argument (java --help, --help-extra; JDK 17).
var valueOptions = map[string]bool{
	"-cp": true, "-classpath": true, "--class-path": true, "-p": true, "--module-path": true,
	"--upgrade-module-path": true, "--add-modules": true, "--enable-native-access": true,
	"--limit-modules": true, "--add-reads": true, "--add-exports": true, "--add-opens": true,
	"--patch-module": true, "--source": true, "-d": true, "--describe-module": true,
}

// flagName returns "Name" for -XX:+Name, -XX:-Name and -XX:Name=value.
func flagName(tok string) (string, bool) {
	rest, ok := strings.CutPrefix(tok, "-XX:")
	if !ok {
		return "", false
	}
	if strings.HasPrefix(rest, "+") || strings.HasPrefix(rest, "-") {
		rest = rest[1:]
	}
	name, _, _ := strings.Cut(rest, "=")
	return name, name != ""
}

// isSpace matches C isspace, which the JVM splits option variables on.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// split splits an option variable as HotSpot does
// (Arguments::parse_options_buffer): on whitespace, where a '...' or "..."
// span anywhere in a word is taken literally without its quotes and there
// are no escapes. An unmatched quote (the JVM refuses to start) takes the
// rest literally.
func split(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		if isSpace(s[i]) {
			i++
			continue
		}
		var b strings.Builder
		for i < len(s) && !isSpace(s[i]) {
			c := s[i]
			if c != '\'' && c != '"' {
				b.WriteByte(c)
				i++
				continue
			}
			end := strings.IndexByte(s[i+1:], c)
			if end < 0 {
				b.WriteString(s[i+1:])
				i = len(s)
				break
			}
			b.WriteString(s[i+1 : i+1+end])
			i += end + 2
		}
		out = append(out, b.String())
	}
	return out
}

// quote makes tok one word for split. Plain tokens stay unquoted:
// quotes in option variables are understood only since JDK 9, so a JDK 8
// still gets working flags whenever the path has no space. A ' is written
// as "'" between single-quoted spans.
func quote(tok string) string {
	if !strings.ContainsFunc(tok, func(r rune) bool {
		return r < 0x80 && (isSpace(byte(r)) || r == '\'' || r == '"')
	}) {
		return tok
	}
	return "'" + strings.ReplaceAll(tok, "'", `'"'"'`) + "'"
}

// makeEvidenceDir returns an existing absolute directory for run's evidence,
// or "" when none can be made (the flags are then not added: a HeapDumpPath
// that does not exist is taken as a file name and the dump fails).
func makeEvidenceDir(runDir string, run int) string {
	if runDir != "" {
		if abs, err := filepath.Abs(runDir); err == nil && os.MkdirAll(abs, 0o755) == nil {
			return abs
		}
	}
	base, err := filepath.Abs(filepath.Join(os.TempDir(), "holdfast-evidence"))
	if err != nil || os.MkdirAll(base, 0o755) != nil {
		return ""
	}
	dir := filepath.Join(base, strconv.Itoa(run))
	err = os.Mkdir(dir, 0o755)
	if err == nil {
		return dir
	}
	if errors.Is(err, fs.ErrExist) {
		// Run numbers restart in memory mode; a leftover dump with the same
		// pid would block the new one, so never share a non-empty dir.
		if entries, rerr := os.ReadDir(dir); rerr == nil && len(entries) == 0 {
			return dir
		}
	}
	dir, err = os.MkdirTemp(base, strconv.Itoa(run)+"-")
	if err != nil {
		return ""
	}
	os.Chmod(dir, 0o755) // MkdirTemp makes 0700; match the run dirs
	return dir
}
