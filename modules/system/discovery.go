package system

import (
	"encoding/json"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/cashlessmedia/cashless-auth/core/httpx"
	"github.com/cashlessmedia/cashless-auth/core/router"
	"github.com/cashlessmedia/cashless-auth/core/tokens"
)

// discoveryPath is where OpenID Connect Discovery 1.0 §4 and RFC 8414 put the document: the
// issuer followed by this path, which a JOSE client such as Envoy jwt_authn, Kong's
// openid-connect or node jose's callers reads to find jwks_uri.
const discoveryPath = "/.well-known/openid-configuration"

// discoveryRoute serves the discovery document when the tokens' issuer is a URL a client can
// fetch it from (discoverable); otherwise there is no such route and the path answers 404 as
// any unknown one: a document naming an issuer that is not a URL would tell clients nothing
// true.
func discoveryRoute(t *tokens.Service) []router.Route {
	if !discoverable(t.Issuer()) {
		return nil
	}
	return []router.Route{{Name: "system.discovery", Method: http.MethodGet, Path: discoveryPath, Undocumented: true, Limit: "600/minute", Handler: discovery(t)}}
}

// discoverable says whether iss may name an issuer in a discovery document: an absolute https
// URL without query or fragment (OpenID Connect Discovery §3, RFC 8414 §2), or an http one on
// a loopback address, where nobody can sit between client and server (tests, a sidecar).
func discoverable(iss string) bool {
	u, err := url.Parse(iss)
	if err != nil || u.Opaque != "" || u.Host == "" || u.User != nil || strings.ContainsAny(iss, "?#") {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		host := u.Hostname()
		addr, err := netip.ParseAddr(host)
		return host == "localhost" || (err == nil && addr.IsLoopback())
	}
	return false
}

// discoveryDocument holds only what is true of this service. It is no OpenID Provider (no
// authorization endpoint, no ID tokens for relying parties), so the fields OpenID Discovery
// lists as REQUIRED for one (authorization_endpoint, response_types_supported,
// subject_types_supported) are left out rather than invented: the document exists so that JOSE
// clients find the keys. The algorithms are those of the tokens still valid
// (tokens.Service.SigningAlgorithms), under the one name Discovery has for them.
type discoveryDocument struct {
	Issuer     string   `json:"issuer"`
	JWKSURI    string   `json:"jwks_uri"`
	Algorithms []string `json:"id_token_signing_alg_values_supported"`
}

// discovery answers the document, built once: issuer and keys are read at start. jwks_uri
// lies beside it under the issuer, so an issuer with a path (https://api.example/auth) works
// behind a gateway that strips that prefix.
func discovery(t *tokens.Service) httpx.HandlerFunc {
	body, _ := json.Marshal(discoveryDocument{
		Issuer:     t.Issuer(),
		JWKSURI:    strings.TrimSuffix(t.Issuer(), "/") + "/.well-known/jwks.json",
		Algorithms: t.SigningAlgorithms(),
	})
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(body)
		return nil
	}
}
