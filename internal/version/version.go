package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Version is the release, set when linking:
//
//	go build -ldflags "-X github.com/holdfast-dev/holdfast/internal/version.Version=v1.2.3"
//
// It stays a var (not a const) because -X can only set string variables.
var Version = "dev"

// Info is the multi-line text of `holdfast version`: the version, the Go
// toolchain, the platform and, when the binary was built from a VCS checkout
// with -buildvcs, the commit, its time and whether the tree was modified.
func Info() string {
	bi, _ := debug.ReadBuildInfo() // nil when not built with module support
	return info(Version, runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH, bi)
}

// info is Info with its inputs passed in, so the test can feed a BuildInfo.
func info(version, goVersion, platform string, bi *debug.BuildInfo) string {
	var b strings.Builder
	fmt.Fprintf(&b, "holdfast %s\n", version)
	fmt.Fprintf(&b, "go:       %s\n", goVersion)
	fmt.Fprintf(&b, "platform: %s\n", platform)
	if bi == nil {
		return b.String()
	}
	// "go install ...@v1.2.3" stamps the module version even without -X.
	if v := bi.Main.Version; v != "" && v != "(devel)" && v != version {
		fmt.Fprintf(&b, "module:   %s\n", v)
	}
	vcs := map[string]string{}
	for _, s := range bi.Settings {
		vcs[s.Key] = s.Value
	}
	if rev := vcs["vcs.revision"]; rev != "" {
		if vcs["vcs.modified"] == "true" {
			rev += " (modified)"
		}
		fmt.Fprintf(&b, "revision: %s\n", rev)
	}
	if t := vcs["vcs.time"]; t != "" {
		fmt.Fprintf(&b, "time:     %s\n", t)
	}
	return b.String()
}
