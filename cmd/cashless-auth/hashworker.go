package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/cashlessmedia/cashless-auth/core/passwords"
)

// hashWorkerUse is the role a server starts this binary in for password.process: one child
// per hashing worker, shown by ps as `cashless-auth hash-worker`.
const hashWorkerUse = "hash-worker"

// hashWorkerCmd is hidden: only a server starts it, with the pipe protocol on stdin and stdout.
func hashWorkerCmd() *cobra.Command {
	return &cobra.Command{
		Use:    hashWorkerUse,
		Short:  "Hash passwords for the server that started this process (internal)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE:   func(*cobra.Command, []string) error { return passwords.ServeWorker(os.Stdin, os.Stdout) },
	}
}

// hashWorker is how serve starts its hash workers: this very binary in that role.
func hashWorker() *passwords.WorkerCommand { return passwords.Self(hashWorkerUse) }
