// Command passthrough is the load test's plain reverse proxy: it forwards
// /fhir/... to the upstream FHIR base with httputil.ReverseProxy (Rewrite)
// and does nothing else, so that ds4p can be compared with the cost of any
// proxy at all. It prints one line, LISTENING <FHIR base>, and exits by
// itself after --lifetime.
//
//	go run ./test/load/passthrough --upstream http://127.0.0.1:8103/fhir/R4
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (loopback)")
	upstream := flag.String("upstream", "", "upstream FHIR base URL, required")
	lifetime := flag.Duration("lifetime", 45*time.Minute, "exit after this long")
	flag.Parse()
	up, err := url.Parse(*upstream)
	if err != nil || up.Host == "" {
		log.Fatalf("--upstream: need an absolute URL, got %q", *upstream)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("LISTENING http://" + ln.Addr().String() + "/fhir")
	time.AfterFunc(*lifetime, func() { os.Exit(0) })
	srv := &http.Server{Handler: newProxy(up), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}

// newProxy maps /fhir/X to up/X; idle connections are kept as ds4p keeps
// them (128 per host).
func newProxy(up *url.URL) *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Path = strings.TrimPrefix(r.In.URL.Path, "/fhir")
			r.Out.URL.RawPath = ""
			r.SetURL(up)
			r.Out.Host = up.Host
		},
		Transport: &http.Transport{
			MaxIdleConns:        128,
			MaxIdleConnsPerHost: 128,
			IdleConnTimeout:     90 * time.Second,
		},
	}
}
