//go:build !linux

package passwords

import "syscall"

// lowerPriority is Linux-only; elsewhere hashing runs at normal priority.
func lowerPriority(Isolation) {}

func lowerThread(int, Isolation) {}

// childAttr: elsewhere a hash worker exits when its stdin closes, at the latest.
func childAttr() *syscall.SysProcAttr { return nil }
