# Prerequisite checks of the scripts a newcomer runs (demo.sh, test.sh, deps.sh,
# kubelet-env.sh). Sourced, not run. Each check either passes quietly or stops the
# script with one message that says what is missing and how to get it, before the
# script has changed anything on the machine.
#
# What a fresh machine needs: Debian 12 (bookworm) with apt, root, and Go 1.26 at
# /usr/local/go (or on PATH). The scripts install everything else with apt.

# prereq_fail prints "<script>: <message>" on stderr and exits 1.
prereq_fail() {
  echo "$(basename "$0" .sh): $*" >&2
  exit 1
}

# prereq_root stops unless the script runs as root; $1 says why root is needed.
prereq_root() {
  [ "$(id -u)" = 0 ] || prereq_fail "run as root ($1)"
}

# prereq_debian stops unless apt-get and dpkg are there, and warns when the system is
# not Debian 12, the only one the package lists are known to work on.
prereq_debian() {
  command -v apt-get >/dev/null && command -v dpkg-query >/dev/null ||
    prereq_fail "needs Debian 12 (apt-get and dpkg-query were not found): the scripts install packages with apt"
  local id="" version="" pretty=""
  if [ -r /etc/os-release ]; then
    id=$(. /etc/os-release && echo "${ID:-}")
    version=$(. /etc/os-release && echo "${VERSION_ID:-}")
    pretty=$(. /etc/os-release && echo "${PRETTY_NAME:-}")
  fi
  if [ "$id" != debian ] || [ "$version" != 12 ]; then
    echo "$(basename "$0" .sh): warning: tested on Debian 12 only, this is ${pretty:-an unknown system}; package names may differ" >&2
  fi
}

# prereq_go puts /usr/local/go/bin first on PATH and stops unless `go` is Go 1.26 or
# later. The version is read outside the repository, so that go.mod's toolchain line
# cannot make this check download a toolchain.
prereq_go() {
  export PATH="/usr/local/go/bin:$PATH"
  local arch v minor
  arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
  local how="unpack Go's official release tarball for linux-$arch (go1.26.x) into /usr/local"
  if ! v=$(cd / && GOTOOLCHAIN=local go env GOVERSION 2>/dev/null); then
    prereq_fail "Go 1.26 is required and was not found at /usr/local/go/bin/go or on PATH: $how"
  fi
  minor=${v#go1.}
  minor=${minor%%[!0-9]*}
  case "$v" in
  go1.*) ;;
  *) minor=0 ;;
  esac
  if [ -z "$minor" ] || [ "$minor" -lt 26 ]; then
    prereq_fail "Go 1.26 or later is required, $(command -v go) is $v: $how"
  fi
}
