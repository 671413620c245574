// Command printinfo prints version.Info; the test builds it with -ldflags -X
// to prove the documented link-time path sets Version.
package main

import (
	"fmt"

	"github.com/holdfast-dev/holdfast/internal/version"
)

func main() { fmt.Print(version.Info()) }
