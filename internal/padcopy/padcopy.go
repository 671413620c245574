// Package padcopy copies a file into an archive entry whose size was
// declared before the copy (a tar header): a file that shrinks or fails
// while it is read is padded with zeros to that size, so the archive stays
// readable, and the caller learns whether the reading or the writing side
// failed.
//
// It owns only that copy; what to report, and to whom, is the caller's.
package padcopy

import (
	"errors"
	"io"
)

// Copy copies size bytes from src to dst through buf. n is how many came
// from src; when src ended early, readErr is its error (nil when it merely
// ended) and the rest was written as zeros. writeErr is dst's error, after
// which nothing more was written.
func Copy(dst io.Writer, src io.Reader, size int64, buf []byte) (n int64, readErr, writeErr error) {
	n, err := io.CopyBuffer(tagged{dst}, io.LimitReader(src, size), buf)
	var we *writeError
	if errors.As(err, &we) {
		return n, nil, we.err
	}
	if n < size {
		if _, perr := io.CopyBuffer(dst, io.LimitReader(zeros{}, size-n), buf); perr != nil {
			return n, err, perr
		}
	}
	return n, err, nil
}

// writeError marks an error of dst, as opposed to one of src.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }

// tagged wraps dst so that its errors are writeErrors.
type tagged struct{ w io.Writer }

func (t tagged) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	if err != nil {
		err = &writeError{err}
	}
	return n, err
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
