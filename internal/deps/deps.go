// Package deps pins the third-party modules holdfast is built on while the
// packages that use them are being written. Delete it once each is imported
// for real.
package deps

import (
	_ "github.com/creack/pty"
	_ "github.com/gliderlabs/ssh"
	_ "github.com/pkg/sftp"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/testutil"
	_ "golang.org/x/crypto/ssh"
)
