// Package authkeys parses OpenSSH authorized_keys text (sshd(8)
// "AUTHORIZED_KEYS FILE FORMAT") into typed entries, and matches the
// from="pattern-list" option against a client address. It is the one parser
// of authorized keys: config uses it to check HOLDFAST_SSH_AUTHORIZED_KEYS
// before anything starts, and shellsrv to load the keys it authenticates
// with, so a line that passes one passes the other.
//
// It must not: read files, resolve names (from= host names are matched
// against the address text only, as sshd does with UseDNS no), or accept an
// option it does not understand: ignoring a restriction would grant more
// than the line says.
package authkeys
