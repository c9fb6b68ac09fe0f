package fhirmem

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// response is a complete answer, built before anything is written.
type response struct {
	status int
	body   []byte
	header map[string]string
}

func jsonResponse(status int, body []byte) response {
	return response{status: status, body: body, header: map[string]string{}}
}

// resourceResponse answers with one resource version and its ETag.
func resourceResponse(status int, body []byte, version int) response {
	resp := jsonResponse(status, body)
	resp.header["ETag"] = etag(version)
	return resp
}

func etag(version int) string { return `W/"` + strconv.Itoa(version) + `"` }

// write sends resp, gzipped when the server and the client both allow it.
func (s *Server) write(w http.ResponseWriter, r *http.Request, resp response) {
	h := w.Header()
	for k, v := range resp.header {
		h.Set(k, v)
	}
	body := resp.body
	if len(body) > 0 {
		h.Set("Content-Type", contentType)
	}
	if s.gzip {
		h.Add("Vary", "Accept-Encoding")
		if len(body) > 0 && acceptsGzip(r.Header.Get("Accept-Encoding")) {
			body = gzipped(body)
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body) // the client is gone; nothing left to do
	}
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		q := strings.ReplaceAll(strings.ToLower(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

func gzipped(body []byte) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write(body) // writes to a bytes.Buffer cannot fail
	_ = zw.Close()
	return b.Bytes()
}

// negotiate refuses requests for a format other than JSON.
func negotiate(r *http.Request) (response, bool) {
	format := r.URL.Query().Get("_format")
	if format != "" && !strings.Contains(format, "json") {
		return outcome(http.StatusNotAcceptable, "not-supported", "only JSON is supported, not _format="+format), false
	}
	accept := r.Header.Get("Accept")
	if accept == "" || strings.Contains(accept, "json") || strings.Contains(accept, "*/*") ||
		strings.Contains(accept, "application/*") {
		return response{}, true
	}
	return outcome(http.StatusNotAcceptable, "not-supported", "only application/fhir+json is supported"), false
}

// jsonMediaType reports whether a Content-Type names a JSON body; an
// absent one is taken as JSON.
func jsonMediaType(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/fhir+json" || mt == "application/json")
}

// issue is one OperationOutcome issue.
type issue struct {
	Severity    string `json:"severity"`
	Code        string `json:"code"`
	Diagnostics string `json:"diagnostics"`
}

// outcome answers with an OperationOutcome holding one error.
func outcome(status int, code, msg string) response {
	body, _ := json.Marshal(struct { // a struct of strings always marshals
		ResourceType string  `json:"resourceType"`
		Issue        []issue `json:"issue"`
	}{"OperationOutcome", []issue{{"error", code, msg}}})
	return jsonResponse(status, body)
}

func notFound(msg string) response   { return outcome(http.StatusNotFound, "not-found", msg) }
func badRequest(msg string) response { return outcome(http.StatusBadRequest, "invalid", msg) }
func conflict(msg string) response   { return outcome(http.StatusConflict, "conflict", msg) }

func notAllowed(methods ...string) response {
	resp := outcome(http.StatusMethodNotAllowed, "not-supported", "method not allowed; allowed: "+strings.Join(methods, ", "))
	resp.header["Allow"] = strings.Join(methods, ", ")
	return resp
}

// urls builds absolute URLs from the request's scheme and Host.
type urls struct{ root string }

func (s *Server) urls(r *http.Request) urls {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return urls{root: scheme + "://" + r.Host + s.base}
}

// path returns the absolute URL of a path below the base.
func (u urls) path(p string) string { return u.root + "/" + p }

// resource returns the absolute URL of a resource.
func (u urls) resource(typ, id string) string { return u.root + "/" + typ + "/" + id }
