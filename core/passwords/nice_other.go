//go:build !linux

package passwords

// lowerPriority is Linux-only; elsewhere hashing runs at normal priority.
func lowerPriority(Isolation) {}
