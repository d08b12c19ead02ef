//go:build !linux

package passwords

import (
	"os"
	"syscall"
)

// lowerPriority is Linux-only; elsewhere hashing runs at normal priority.
func lowerPriority(Isolation) {}

func lowerThread(int, Isolation) {}

// childAttr: elsewhere a hash worker exits when its stdin closes, at the latest.
func childAttr() *syscall.SysProcAttr { return nil }

func selfExe() string {
	path, _ := os.Executable() // "" fails at start, and the server hashes in-process
	return path
}

func nameProcess() {}
