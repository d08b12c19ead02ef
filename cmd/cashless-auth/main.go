// Command cashless-auth runs the authentication service and its operator commands.
package main

import (
	"fmt"
	"os"
)

// Stamped by the build (-ldflags "-X main.version=… -X main.commit=…").
var (
	version = "dev"
	commit  = "none"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
