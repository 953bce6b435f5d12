// Command backend is the upstream of bench/gateway.sh: a tiny, fast HTTP server answering every
// request with a short JSON body, so that the proxies in front of it are what is measured.
package main

import (
	"flag"
	"log"
	"net/http"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:9100", "address to listen on")
	flag.Parse()
	body := []byte(`{"id":42,"status":"shipped","items":3}` + "\n")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	log.Fatal(http.ListenAndServe(*addr, h))
}
