// Package listen answers one question about a process tree: does any
// process in it hold a listening TCP socket, and on which addresses?
//
// It owns walking a tree (a pid and its descendants, found by the parent
// pid in /proc/<pid>/stat), collecting the socket inodes each process holds
// (/proc/<pid>/fd), and matching them against the LISTEN entries of
// /proc/<pid>/net/tcp and tcp6 of each network namespace the tree uses.
//
// It must not: connect to, or otherwise touch, the sockets it finds;
// signal or change the processes; keep state between calls; or hold a
// process's /proc files open. A process that exits during a walk is simply
// not counted.
package listen
