// Package fhirmem is a small in-memory FHIR R4 server for the demo, unit
// tests and benchmarks. It is not a production server.
//
// Resources are stored as the exact bytes they were loaded or written with
// and served byte for byte: only the type, id and patient reference are
// decoded, to index them. The one exception is a create (POST) without an
// id, which gets a server-assigned id inserted as its first member.
//
// Supported interactions, under the base path given to New:
//
//	GET  metadata                         minimal CapabilityStatement
//	GET  Type/id                          read (404 OperationOutcome when missing)
//	GET  Type/id/_history                 instance history (history Bundle)
//	GET  Type/id/_history/n               vread
//	GET  Type?params, POST Type/_search   search (form body), see below
//	GET  Patient/id/$everything           the Patient and its compartment, paged
//	PUT  Type/id                          create or update (new version)
//	POST Type                             create
//	DELETE Type/id                        delete, with its history
//
// Search parameters: _id, patient and subject (both accept "Patient/x" or
// "x" and match any resource whose subject, patient or beneficiary is that
// patient), _count (default 50), _offset, _include=Type:patient or
// Type:subject (adds the Patient with search.mode include) and
// _summary=count. Unknown parameters are ignored and left out of the self
// link, as FHIR's lenient handling allows, unless the request says
// "Prefer: handling=strict". Bundles carry total, absolute fullUrls and
// self/next/previous links built from the request's Host and the base path.
package fhirmem

import (
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// DefaultCount is the page size of a search without _count.
const DefaultCount = 50

// contentType is the media type of every response body.
const contentType = "application/fhir+json"

// Server is an in-memory FHIR R4 server. It is safe for concurrent use.
type Server struct {
	base     string
	gzip     bool
	requests atomic.Int64

	mu    sync.RWMutex
	store *store
}

// Option configures a Server.
type Option func(*Server)

// WithGzip makes the server gzip response bodies for clients that send
// Accept-Encoding: gzip.
func WithGzip() Option {
	return func(s *Server) { s.gzip = true }
}

// New returns an empty server that serves under basePath, e.g. "/fhir".
func New(basePath string, opts ...Option) *Server {
	s := &Server{base: "/" + strings.Trim(basePath, "/"), store: newStore()}
	if s.base == "/" {
		s.base = ""
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// BasePath returns the path the server serves under, "" for the root.
func (s *Server) BasePath() string { return s.base }

// Requests returns the number of requests served so far.
func (s *Server) Requests() int64 { return s.requests.Load() }

// Len returns the number of resources stored.
func (s *Server) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.store.records)
}

// Get returns a copy of the current bytes of a resource, exactly as stored.
func (s *Server) Get(typ, id string) ([]byte, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec, ok := s.store.records[typ+"/"+id]
	if !ok {
		return nil, false
	}
	return clone(rec.current()), true
}

// Load stores raw JSON resources, each with resourceType and id, byte for
// byte. Loading an existing resource adds a version. Either every resource
// is stored or, on error, none is.
func (s *Server) Load(resources ...[]byte) error {
	ixs := make([]indexed, len(resources))
	for i, body := range resources {
		ix, err := index(body)
		if err == nil && ix.id == "" {
			err = errMissingID
		}
		if err != nil {
			return loadError(i, err)
		}
		ixs[i] = ix
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, body := range resources {
		s.store.put(ixs[i], clone(body))
	}
	return nil
}

// types returns the resource types currently stored, sorted.
func (s *Server) types() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for t, ids := range s.store.byType {
		if len(ids) > 0 {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// ServeHTTP serves the FHIR REST API under the base path.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	s.write(w, r, s.route(r))
}

// route dispatches a request to its interaction.
func (s *Server) route(r *http.Request) response {
	rest, ok := strings.CutPrefix(r.URL.Path, s.base)
	if !ok || (rest != "" && rest[0] != '/') {
		return notFound("no FHIR endpoint at " + r.URL.Path)
	}
	if resp, ok := negotiate(r); !ok {
		return resp
	}
	seg := strings.Split(strings.Trim(rest, "/"), "/")
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	switch {
	case len(seg) == 1 && seg[0] == "metadata":
		return only(method, http.MethodGet, func() response { return s.capabilities(r) })
	case !typePattern.MatchString(seg[0]):
		return notFound("unknown resource type " + seg[0])
	case len(seg) == 1:
		return s.typeLevel(r, method, seg[0])
	case len(seg) == 2 && seg[1] == "_search":
		return only(method, http.MethodPost, func() response { return s.search(r, seg[0]) }, http.MethodGet)
	case !idPattern.MatchString(seg[1]):
		return notFound("invalid id " + seg[1])
	case len(seg) == 2:
		return s.instanceLevel(r, method, seg[0], seg[1])
	case len(seg) == 3 && seg[0] == "Patient" && seg[2] == "$everything":
		return only(method, http.MethodGet, func() response { return s.everything(r, seg[1]) })
	case len(seg) == 3 && seg[2] == "_history":
		return only(method, http.MethodGet, func() response { return s.history(r, seg[0], seg[1]) })
	case len(seg) == 4 && seg[2] == "_history":
		return only(method, http.MethodGet, func() response { return s.vread(seg[0], seg[1], seg[3]) })
	}
	return notFound("unsupported path " + r.URL.Path)
}

func (s *Server) typeLevel(r *http.Request, method, typ string) response {
	switch method {
	case http.MethodGet:
		return s.search(r, typ)
	case http.MethodPost:
		return s.create(r, typ)
	}
	return notAllowed(http.MethodGet, http.MethodPost)
}

func (s *Server) instanceLevel(r *http.Request, method, typ, id string) response {
	switch method {
	case http.MethodGet:
		return s.read(typ, id)
	case http.MethodPut:
		return s.update(r, typ, id)
	case http.MethodDelete:
		return s.delete(typ, id)
	}
	return notAllowed(http.MethodGet, http.MethodPut, http.MethodDelete)
}

// only runs h when method is want or one of also, else answers 405.
func only(method, want string, h func() response, also ...string) response {
	if method == want {
		return h()
	}
	for _, m := range also {
		if method == m {
			return h()
		}
	}
	return notAllowed(append([]string{want}, also...)...)
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }
