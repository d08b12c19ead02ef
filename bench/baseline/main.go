// Command baseline serves the bare reference handler of `make bench` (package bench/bare):
// net/http + gorilla/mux, one POST /tokens/verify route that decodes {"token": "..."} and
// answers {"valid": false, "claims": null}, nothing else.
//
//	go run ./bench/baseline -addr 127.0.0.1:18090
package main

import (
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/cashlessmedia/cashless-auth/bench/bare"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "listen address")
	flag.Parse()
	srv := &http.Server{
		Addr:              *addr,
		Handler:           bare.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
	}
	log.Printf("baseline listening on %s", *addr)
	log.Fatal(srv.ListenAndServe())
}
