package state

import "encoding/json"

// MarshalJSON writes pid as null when no app process exists, as the
// contract wants absent values to be null.
func (s Snapshot) MarshalJSON() ([]byte, error) {
	type plain Snapshot
	out := struct {
		plain
		PID *int `json:"pid"`
	}{plain: plain(s)}
	if s.PID > 0 {
		pid := s.PID
		out.PID = &pid
	}
	return json.Marshal(out)
}
