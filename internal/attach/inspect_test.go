package attach

import "os"

// Inspect reads what attaching to pid needs and checks that the process is
// a HotSpot JVM that has not switched attach off, with the caller's
// credentials. It sends no signal. (Run makes the same checks, reading
// what the caller may not as the JVM's user.)
func Inspect(pid int) (*Target, error) {
	t, err := inspectStatus(pid)
	if err != nil {
		return nil, err
	}
	maps, err := os.ReadFile(t.procPath("maps"))
	if err := t.checkMaps(maps, err); err != nil {
		return nil, err
	}
	return t, t.checkCapabilities(t.tmpDir())
}
