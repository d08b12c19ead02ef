// Package docs embeds the legacy service's contract, so tests validate every response against
// it and a fragment drifting from it is caught.
package docs

import _ "embed"

// Contract is docs/contract/openapi.json, the wire contract clients depend on.
//
//go:embed contract/openapi.json
var Contract []byte
