// Package bare is the reference handler of `make bench`: net/http + gorilla/mux with a
// POST /tokens/verify route that decodes {"token": "..."} and answers
// {"valid": false, "claims": null} as JSON, and a GET /auth/forward route that reads the bearer
// token and answers 200 with no body (401 without one), as a gateway's check would. No middleware, no rate limit, no token check, no
// state store: the ceiling a JSON handler on this stack reaches on this machine, against which
// the real service's /tokens/verify is reported as a ratio (issue 7). bench/baseline serves it
// over HTTP; bench/verify_bench_test.go drives it in-process.
package bare

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gorilla/mux"
)

type verifyRequest struct {
	Token string `json:"token"`
}

type verifyResponse struct {
	Valid  bool `json:"valid"`
	Claims any  `json:"claims"`
}

// Handler returns the router with its one route.
func Handler() http.Handler {
	m := mux.NewRouter()
	m.Path("/tokens/verify").Methods(http.MethodPost).HandlerFunc(verify)
	m.Path("/auth/forward").Methods(http.MethodGet).HandlerFunc(forward)
	return m
}

// forward admits any bearer token unchecked: the ceiling of gateway forward-auth.
func forward(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		w.Header().Set("WWW-Authenticate", "Bearer")
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func verify(w http.ResponseWriter, r *http.Request) {
	var req verifyRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = w.Write([]byte(`{"detail":"invalid body"}` + "\n"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(verifyResponse{Valid: false, Claims: nil})
}
