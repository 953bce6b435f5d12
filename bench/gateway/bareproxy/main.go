// Command bareproxy is the baseline of bench/gateway.sh: httputil.ReverseProxy with default
// settings (NewSingleHostReverseProxy, default transport, no buffer pool), nothing else.
package main

import (
	"flag"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:9101", "address to listen on")
	upstream := flag.String("upstream", "http://127.0.0.1:9100", "upstream URL")
	flag.Parse()
	u, err := url.Parse(*upstream)
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe(*addr, httputil.NewSingleHostReverseProxy(u)))
}
