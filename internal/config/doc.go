// Package config turns holdfast's entrypoint command line and its
// HOLDFAST_* environment twins into a validated Config, and writes the -h
// text.
//
// Order of precedence, lowest first: the documented default, the environment
// twin (HOLDFAST_<FLAG>), the flag on the command line. Every value is checked
// here, before anything starts, so a typo ends in one line naming the flag or
// variable and the bad value, and exit code 2 (the contract), rather than in a
// half-started supervisor.
//
// The command line is parsed by hand rather than with package flag, for three
// reasons: flag's messages say "flag -x" and drop the underlying parse error;
// it cannot tell "--hold false app" (a trap: "false" becomes the command) from
// a real command; and the env twins need the same table of flags.
//
// What it must not do: start anything, touch the network, create or write
// files. It only reads /etc/passwd and /etc/group to resolve --user. Of the
// subcommands it knows only their help text and the flags that may stand
// before one (Split, ClientStateDir); dispatch lives in cmd/holdfast.
package config
