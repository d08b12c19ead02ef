// Package upgrade holds the upgrade gate (upgrade_test.go): the binary of the last release
// listed in docs/upgrading.md, built from this repository's own history, provisions a tenant's
// state on each backend through its CLI and HTTP API; the current binary must then serve the
// same people, tokens and keys from that database and state store, and the old binary must
// still serve them after the current one ran (rollback). It has no code outside its tests.
package upgrade
