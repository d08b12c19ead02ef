// Package attacks is the attack suite: the assembled service (every module of the catalogue)
// attacked through HTTP on both backends, concurrently where the attack is, one file per attack
// of docs/contract/NOTES.md's "Hardening decisions". It has no code outside its tests.
package attacks
