package config

import (
	"path/filepath"
)

// DefaultStateDir is --state-dir's default.
const DefaultStateDir = "/var/lib/holdfast"

// ClientStateDir is the state dir a subcommand talks to: the --state-dir
// among the global flags in front of it (`holdfast --state-dir=X status`,
// lead as Split returns it), else HOLDFAST_STATE_DIR, else the default;
// made absolute (StateDir). --state-dir after the subcommand's name
// overrides it (the caller's flag set applies it through StateDir). Any
// other entrypoint flag in front of a subcommand is a *UsageError: it
// would do nothing there.
func ClientStateDir(lead []string, lookupEnv LookupEnv) (string, error) {
	dir := DefaultStateDir
	if lookupEnv != nil {
		if v, ok := lookupEnv(EnvName("state-dir")); ok && v != "" {
			dir = v
		}
	}
	_, _, err := scan(lead, func(f *flagSpec, v string) error {
		if f.name != "state-dir" {
			return usageErr("--%s is an entrypoint flag and does nothing for a subcommand; only --state-dir may come before a subcommand", f.name)
		}
		if _, err := parseNonEmpty(v); err != nil {
			return usageErr("invalid value %q for --state-dir: %v", v, err)
		}
		dir = v
		return nil
	})
	if err != nil {
		return "", err
	}
	return StateDir(dir)
}

// StateDir checks a state dir given to a subcommand and makes it absolute,
// as Parse does for the entrypoint.
func StateDir(v string) (string, error) {
	if _, err := parseNonEmpty(v); err != nil {
		return "", usageErr("invalid value %q for --state-dir: %v", v, err)
	}
	abs, err := filepath.Abs(v)
	if err != nil {
		return "", usageErr("invalid value %q for --state-dir: %v", v, err)
	}
	return abs, nil
}
