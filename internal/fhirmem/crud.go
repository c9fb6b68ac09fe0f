package fhirmem

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// maxBody is the largest resource a client may write.
const maxBody = 16 << 20

var errMissingID = fmt.Errorf("%w: missing id", errInvalid)

func loadError(i int, err error) error {
	return fmt.Errorf("fhirmem: loading resource %d: %w", i, err)
}

// read answers GET Type/id with the current version.
func (s *Server) read(typ, id string) response {
	s.mu.RLock()
	rec, ok := s.store.records[typ+"/"+id]
	var body []byte
	var v int
	if ok {
		body, v = rec.current(), rec.version()
	}
	s.mu.RUnlock()
	if !ok {
		return notFound("resource " + typ + "/" + id + " is not known")
	}
	return resourceResponse(http.StatusOK, body, v)
}

// vread answers GET Type/id/_history/n.
func (s *Server) vread(typ, id, vid string) response {
	n, err := strconv.Atoi(vid)
	s.mu.RLock()
	rec, ok := s.store.records[typ+"/"+id]
	var body []byte
	if ok && err == nil && n >= 1 && n <= rec.version() {
		body = rec.versions[n-1]
	}
	s.mu.RUnlock()
	if body == nil {
		return notFound("version " + vid + " of " + typ + "/" + id + " is not known")
	}
	return resourceResponse(http.StatusOK, body, n)
}

// history answers GET Type/id/_history with every version, newest first.
func (s *Server) history(r *http.Request, typ, id string) response {
	s.mu.RLock()
	rec, ok := s.store.records[typ+"/"+id]
	var versions [][]byte
	if ok {
		versions = append(versions, rec.versions...)
	}
	s.mu.RUnlock()
	if !ok {
		return notFound("resource " + typ + "/" + id + " is not known")
	}
	u := s.urls(r)
	entries := make([]entry, 0, len(versions))
	for v := len(versions); v >= 1; v-- {
		entries = append(entries, historyEntry(u.resource(typ, id), typ+"/"+id, versions[v-1], v))
	}
	b := bundle{kind: "history", total: len(versions), links: []link{{"self", u.path(typ + "/" + id + "/_history")}}, entries: entries}
	return jsonResponse(http.StatusOK, b.encode())
}

// update answers PUT Type/id: it creates or updates the resource.
func (s *Server) update(r *http.Request, typ, id string) response {
	body, ix, resp, ok := readResource(r, typ)
	if !ok {
		return resp
	}
	if ix.id != id {
		return badRequest(fmt.Sprintf("resource id %q does not match the URL id %q", ix.id, id))
	}
	s.mu.Lock()
	rec, created := s.store.put(ix, body)
	v := rec.version()
	s.mu.Unlock()
	return s.written(r, typ, id, body, v, created)
}

// create answers POST Type. A resource without id gets one assigned; a
// resource whose id is already taken is refused, because the server never
// rewrites an id.
func (s *Server) create(r *http.Request, typ string) response {
	body, ix, resp, ok := readResource(r, typ)
	if !ok {
		return resp
	}
	s.mu.Lock()
	if ix.id == "" {
		ix.id = s.store.newID(typ)
		body = withID(body, ix.id)
	} else if _, taken := s.store.records[typ+"/"+ix.id]; taken {
		s.mu.Unlock()
		return conflict("resource " + typ + "/" + ix.id + " already exists; use PUT to update it")
	}
	rec, _ := s.store.put(ix, body)
	v := rec.version()
	s.mu.Unlock()
	return s.written(r, typ, ix.id, body, v, true)
}

// written answers a successful create or update with the stored resource.
func (s *Server) written(r *http.Request, typ, id string, body []byte, v int, created bool) response {
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	resp := resourceResponse(status, body, v)
	resp.header["Location"] = s.urls(r).resource(typ, id) + "/_history/" + strconv.Itoa(v)
	return resp
}

// delete answers DELETE Type/id.
func (s *Server) delete(typ, id string) response {
	s.mu.Lock()
	ok := s.store.remove(typ, id)
	s.mu.Unlock()
	if !ok {
		return notFound("resource " + typ + "/" + id + " is not known")
	}
	return response{status: http.StatusNoContent, header: map[string]string{}}
}

// readResource reads and indexes a request body that must be a typ resource.
func readResource(r *http.Request, typ string) ([]byte, indexed, response, bool) {
	if !jsonMediaType(r.Header.Get("Content-Type")) {
		return nil, indexed{}, outcome(http.StatusUnsupportedMediaType, "not-supported",
			"only application/fhir+json bodies are supported"), false
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, indexed{}, outcome(http.StatusRequestEntityTooLarge, "too-costly", "resource too large"), false
		}
		return nil, indexed{}, badRequest("reading the body: " + err.Error()), false
	}
	ix, err := index(body)
	if err != nil {
		return nil, indexed{}, badRequest(err.Error()), false
	}
	if ix.typ != typ {
		return nil, indexed{}, badRequest(fmt.Sprintf("resourceType %q does not match the URL type %q", ix.typ, typ)), false
	}
	return body, ix, response{}, true
}
