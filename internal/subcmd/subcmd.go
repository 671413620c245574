// Package subcmd is the table of holdfast's subcommands: each one's name,
// its synopsis and summary for the -h text, the positional words it takes,
// and, for the ones that ask the supervisor to act, the success text. The
// CLI (which words are subcommands, suggestions, dispatch), the -h text and
// the control server's accepted actions all read this one table
// (docs/contract.md "CLI").
//
// It owns only the data; it must not parse flags, talk to the control
// socket or know how a request is carried out.
package subcmd

import "slices"

// Cmd is one subcommand.
type Cmd struct {
	Name     string
	Synopsis string   // as the -h text shows it, e.g. "holdfast status [--json]"
	Summary  string   // one line for the -h text
	Args     []string // the one positional word it requires, one of these; none when empty
	Client   bool     // it talks to the running holdfast through the control socket
	Action   bool     // it sends POST /v1/<Name>, a request to the supervisor
	Done     string   // for an action: printed on success
}

// All are the subcommands, in the order -h lists them.
var All = []Cmd{
	{Name: "status", Synopsis: "holdfast status [--json]", Summary: "phase, run, restarts, last exit, hold", Client: true},
	{Name: "runs", Synopsis: "holdfast runs [--json]", Summary: "every run kept in the state dir", Client: true},
	{Name: "logs", Synopsis: "holdfast logs [-f] [--run N] [--tail N] [--why]", Summary: "the app's retained output", Client: true},
	{Name: "bundle", Synopsis: "holdfast bundle [--run N | --all] [--with-heap] [-o FILE]", Summary: "all the evidence as one .tar.gz", Client: true},
	{Name: "restart", Synopsis: "holdfast restart", Summary: "start the app now (ends a hold)", Client: true, Action: true,
		Done: "holdfast: restarting the app with a fresh restart budget (watch it with `holdfast status` or `holdfast logs -f`)"},
	{Name: "release", Synopsis: "holdfast release", Summary: "end the hold; pass the app's code on", Client: true, Action: true,
		Done: "holdfast: hold released; holdfast exits with the app's last exit code"},
	{Name: "stop", Synopsis: "holdfast stop", Summary: "stop the app gracefully, then exit", Client: true, Action: true,
		Done: "holdfast: stopping the app; holdfast exits when it is gone"},
	{Name: "hold", Synopsis: "holdfast hold", Summary: "hold at the next exit; no restart", Client: true, Action: true,
		Done: "holdfast: the app will be held instead of restarted"},
	{Name: "probe", Synopsis: "holdfast probe live|ready", Summary: "exit 0 when healthy, 1 when not", Client: true, Args: []string{"live", "ready"}},
	{Name: "jcmd", Synopsis: "holdfast jcmd [--pid N] COMMAND [ARG...]", Summary: "a diagnostic command to the app's JVM", Client: true},
	{Name: "dump", Synopsis: "holdfast dump threads|heap|histogram|jfr", Summary: "a JVM dump into the run dir", Client: true,
		Args: []string{"threads", "heap", "histogram", "jfr"}},
	{Name: "version", Synopsis: "holdfast version", Summary: "version and build information"},
	{Name: "help", Synopsis: "holdfast help", Summary: "this text"},
}

// Lookup returns the subcommand named name.
func Lookup(name string) (Cmd, bool) {
	i := slices.IndexFunc(All, func(c Cmd) bool { return c.Name == name })
	if i < 0 {
		return Cmd{}, false
	}
	return All[i], true
}

// IsAction reports whether name is an action the control server accepts.
func IsAction(name string) bool {
	c, ok := Lookup(name)
	return ok && c.Action
}

// Names are the names of all subcommands, in table order.
func Names() []string {
	names := make([]string, len(All))
	for i, c := range All {
		names[i] = c.Name
	}
	return names
}

// ClientNames are the names of the subcommands that talk to the control
// socket, in table order.
func ClientNames() []string {
	var names []string
	for _, c := range All {
		if c.Client {
			names = append(names, c.Name)
		}
	}
	return names
}
