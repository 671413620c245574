// Package version holds holdfast's version string, set at link time, and
// describes the build for `holdfast version`.
//
// It owns nothing else and imports no holdfast package, so any package (the
// status JSON, the ssh banner, the CLI) can use it.
package version
