package crashhold

// memRun is the memory sampling of one run (filled in later).
type memRun struct{}

func (s *Supervisor) startMemory(*appRun) *memRun { return nil }

func (s *Supervisor) stopMemory(*appRun, *memRun) {}

func (s *Supervisor) sampleMemory(*appRun, *runWatch) {}
