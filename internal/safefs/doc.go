// Package safefs opens files and directories beneath a directory descriptor
// without following symbolic links, for the files root writes under the state
// dir, where a less privileged process may have planted links.
//
// A path is resolved with openat2(2) and RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS
// where the kernel has it; elsewhere (ENOSYS, or a seccomp filter that
// refuses the call) one component at a time with O_NOFOLLOW, each directory
// opened with O_DIRECTORY. Either way a link anywhere in the path, or a ".."
// that would climb out, is an error, never followed. Operations that name an
// entry (Mkdir, Rename, Remove, Lstat) act on the final component with the
// *at(2) calls, which never follow it.
//
// The package owns only the mechanics of opening. It does not decide who
// owns what or which modes are right; callers check the Stat it returns.
package safefs
