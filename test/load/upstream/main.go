// Command upstream is the static FHIR upstream of the load test: it answers
// the load test's read, 1,000-entry search and $everything with bytes built
// once at start (test/load/internal/loaddata), so that a measurement through
// a proxy shows the proxy's cost and nothing of a FHIR server's. Other reads
// of the population are answered too (ds4p's consent API checks that a
// patient exists). It prints one line, LISTENING <FHIR base>, and exits by
// itself after --lifetime. With --print-read-path it prints the path of the
// load test's read (below the FHIR base) and exits.
//
//	go run ./test/load/upstream --listen 127.0.0.1:0
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ds4p/ds4p/internal/synth"
	"github.com/ds4p/ds4p/test/load/internal/loaddata"
)

// basePath is the FHIR base path, as Medplum's.
const basePath = "/fhir/R4"

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (loopback)")
	lifetime := flag.Duration("lifetime", 45*time.Minute, "exit after this long")
	readPath := flag.Bool("print-read-path", false, "print the path of the load test's read and exit")
	flag.Parse()
	if *readPath {
		fmt.Println(loaddata.ReadPath(loaddata.Dataset()))
		return
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	base := "http://" + ln.Addr().String() + basePath
	h := newHandler(loaddata.Dataset(), base)
	fmt.Println("LISTENING " + base)
	time.AfterFunc(*lifetime, func() { os.Exit(0) })
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}

// handler serves fixed bytes.
type handler struct {
	search, everything, metadata []byte
	reads                        map[string][]byte // "Type/id" → resource
}

func newHandler(d *synth.Dataset, base string) *handler {
	h := &handler{
		search:     synth.SearchsetBundle(loaddata.SearchResources(d), base),
		everything: synth.SearchsetBundle(loaddata.EverythingResources(d), base),
		metadata:   []byte(`{"resourceType":"CapabilityStatement","status":"active","kind":"instance","fhirVersion":"4.0.1","format":["json"]}`),
		reads:      map[string][]byte{},
	}
	for _, r := range d.Resources {
		h.reads[r.Ref()] = r.JSON
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "read only", http.StatusMethodNotAllowed)
		return
	}
	path, ok := strings.CutPrefix(r.URL.Path, basePath+"/")
	if !ok {
		h.notFound(w)
		return
	}
	switch {
	case path == "metadata":
		write(w, h.metadata)
	case path == "Observation":
		write(w, h.search)
	case path == "Patient/"+loaddata.EverythingPatient+"/$everything":
		write(w, h.everything)
	default:
		if b, ok := h.reads[path]; ok {
			write(w, b)
			return
		}
		h.notFound(w)
	}
}

func (h *handler) notFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`))
}

func write(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/fhir+json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}
