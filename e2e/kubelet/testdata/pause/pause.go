// Command pause is the pod sandbox's only process: it holds the pod's namespaces open and
// blocks until TERM or INT, then exits 0. A static binary, so the pause image is one file.
// Built by the kubelet e2e test (it lives under testdata so that `go test ./...` and
// `go vet ./...` leave it alone).
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	<-sigs
}
