package capture

import "bytes"

// TailLines returns the last n lines of b (a run's output.log, or Bytes).
// A final line without a newline counts as a line. n < 0 returns all of b.
func TailLines(b []byte, n int) []byte {
	if n < 0 {
		return b
	}
	end := len(b)
	if end > 0 && b[end-1] == '\n' {
		end-- // the last line's own newline does not start another line
	}
	for i := 0; i < n; i++ {
		j := bytes.LastIndexByte(b[:end], '\n')
		if j < 0 {
			return b
		}
		if i == n-1 {
			return b[j+1:]
		}
		end = j
	}
	return b[len(b):]
}
