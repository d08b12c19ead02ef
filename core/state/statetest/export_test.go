package statetest

import "testing"

// SetShort makes Client behave as under -short (or not) until the test ends.
func SetShort(t testing.TB, v bool) {
	old := short
	short = func() bool { return v }
	t.Cleanup(func() { short = old })
}
