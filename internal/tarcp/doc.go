// Package tarcp is holdfast's `tar` personality: exactly the tar
// invocations `kubectl cp` sends into a container, so that kubectl cp works
// on images that have no tar (JRE-slim, distroless, Jib). holdfast runs Main
// when it is invoked as tar (argv[0]'s base name, e.g. a symlink
// /usr/local/bin/tar → holdfast).
//
// # Supported invocations (README section draft)
//
// holdfast's tar implements the commands kubectl v1.36 (k8s.io/kubectl
// v0.36.3, pkg/cmd/cp/cp.go) runs in the container, and nothing else:
//
//	tar cf - PATH                                             kubectl cp POD:PATH LOCAL (also run by sh -c "tar cf - 'PATH' | tail -c+N" with --retries)
//	tar -xmf - [-C DIR]                                       kubectl cp LOCAL POD:PATH
//	tar --no-same-permissions --no-same-owner -xmf - [-C DIR] kubectl cp --no-preserve LOCAL POD:PATH
//
// Anything else prints one line, "holdfast's tar supports only what kubectl
// cp uses: …", and exits 2. kubectl cp into a directory also runs `test -d
// DEST` first; on an image without test(1) that fails and kubectl treats
// DEST as a file name (copy to POD:DIR/NAME then). --retries runs the copy
// through sh and tail, which such images lack too.
//
// Creating (cf -) writes what GNU tar 1.34 writes for the same command, in
// GNU format: PATH and, for a directory, everything below it in name
// order, symbolic links as links (never followed, PATH included), hard
// links as links to the first name, fifos and devices as headers; sockets
// are skipped with a message. Leading "/" and everything up to a ".."
// component are removed from member names, with GNU's message. Owner and
// group are stored by number and name, mtime in seconds. A file that grows
// while read (a live output.log) is cut at the size it had when its header
// was written and one that shrinks is padded with zeros, each with a
// message; unlike GNU tar a file that grew does not make the exit status 1,
// because kubectl cp fails on any non-zero status of the remote tar.
//
// What kubectl keeps on its side (copy from the pod): names below PATH and
// contents; it writes every file with os.Create, so modes and mtimes are
// not kept, symbolic links are skipped with a warning, and the second name
// of a hard link becomes an empty file, with this tar as with GNU tar.
// Into the pod, kubectl's archive carries modes and owners, which the
// extraction keeps as described below, and -m leaves mtimes at the time
// of the copy.
//
// Extracting (-xmf -) writes only inside DIR (default: the working
// directory), file by file; a member that would reach outside is refused
// with a line "tar: NAME: refused: WHY" on stderr, nothing of it is
// written, the next member is extracted, and the exit status is 2:
//
//   - an absolute name, or a name with a ".." component;
//   - a member whose parent directory in DIR is a symbolic link (an
//     archive's link, or one that was already there: nothing is created
//     through a link);
//   - a symbolic link whose target is absolute, climbs above DIR from the
//     link's directory, has a ".." after a name (a/../..), or resolves
//     outside DIR through links already there;
//   - a hard link whose target is absolute, has a "..", or is not a regular
//     file already inside DIR;
//   - character and block devices, fifos, and types other than files,
//     directories and links.
//
// All paths are opened through an os.Root on DIR, so that a link created
// by someone else meanwhile cannot lead a write outside either. An
// existing file is unlinked before a member of the same name is written, so
// a hard link planted in DIR never carries a write to its other names.
// -m: mtimes are not restored. Permissions: as root without
// --no-same-permissions the archive's permission bits (setuid and setgid
// dropped), else those bits less the umask; owner: as root without
// --no-same-owner the archive's owner (by name when the name exists here,
// else by number), else the extracting user. Directory permissions are set
// after their contents, as GNU tar does.
//
// The package must not be used for anything but these invocations, and
// must not follow a link out of DIR or out of the PATH it archives.
package tarcp
