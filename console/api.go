package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
)

// recorder captures the answer of an in-process /admin call.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (rec *recorder) Header() http.Header { return rec.header }
func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec.body.Write(b)
}
func (rec *recorder) WriteHeader(status int) {
	if rec.status == 0 {
		rec.status = status
	}
}

// admin calls the proxy's /admin API in process as the session's user and
// relays the answer (status, content type, disposition, Retry-After of a
// 429 or 503, an accounting's X-DS4P-Pruned-Through, body).
func (h *Handler) admin(w http.ResponseWriter, r *http.Request, s *session, method, path string, q url.Values, body []byte) {
	u := path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader = http.NoBody // a server-side request always has a body
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(r.Context(), method, u, rd)
	if err != nil {
		writeError(w, http.StatusBadRequest, "not a valid request")
		return
	}
	req.Host, req.RemoteAddr, req.TLS = r.Host, r.RemoteAddr, r.TLS
	req.Header.Set("Authorization", "Bearer "+s.token)
	// The console's request id (guard): the admin API's log lines join the
	// console's "console call" line.
	if rid := w.Header().Get("X-Request-Id"); rid != "" {
		req.Header.Set("X-Request-Id", rid)
	}
	req.Header.Set("Accept", "application/json, application/fhir+json, text/csv")
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	rec := &recorder{header: http.Header{}}
	h.cfg.Admin.ServeHTTP(rec, req)
	// X-DS4P-Pruned-Through is a CSV or FHIR accounting's only sign that
	// its range reaches into entries pruned into the export files.
	for _, k := range []string{"Content-Type", "Content-Disposition", "Retry-After", "X-DS4P-Pruned-Through"} {
		if v := rec.header.Get(k); v != "" {
			w.Header().Set(k, v)
		}
	}
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	w.WriteHeader(rec.status)
	_, _ = w.Write(rec.body.Bytes())
}

// decodeBody reads the call's JSON body, one JSON object, into v; an
// empty body is {}. A body it cannot read is a 400 that says what is wrong
// in terms of the JSON sent, never of Go: "seq must be a number",
// `unknown field "x"`, "the request body is not valid JSON". The fields of
// v are named by their json tag or, untagged, by their Go name in lower
// case, so an untagged field must be one word (Seq is "seq").
func decodeBody(w http.ResponseWriter, body []byte, v any) bool {
	if len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, after := dec.Token(); after != io.EOF {
			err = errTrailing
		}
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, bodyError(err))
		return false
	}
	return true
}

// errTrailing is a body with more after its JSON object.
var errTrailing = errors.New("more than one JSON value")

// bodyError words a decoding error of decodeBody for the console's user.
func bodyError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, errTrailing):
		return "the request body is not valid JSON"
	case errors.As(err, &typ) && typ.Field == "":
		return "the request body must be a JSON object"
	case errors.As(err, &typ):
		return strings.ToLower(typ.Field) + " must be " + jsonType(typ.Type, typ.Value)
	}
	// DisallowUnknownFields: `json: unknown field "x"`, the key as sent.
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return "unknown field " + f
	}
	return "the request body is not what this call takes"
}

// jsonType names the JSON a Go type takes; sent is what was sent instead
// ("string", "number -1"), to say "whole number" when the number was not.
func jsonType(t reflect.Type, sent string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	number := strings.HasPrefix(sent, "number")
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if number {
			return "a whole number"
		}
		return "a number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if number {
			return "a whole number, 0 or more"
		}
		return "a number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "of another JSON type"
}

// values turns the non-empty fields into query parameters.
func values(kv ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	return q
}

// auditSearch relays a ledger search (GET /admin/audit) whose filters came
// in the body.
func (h *Handler) auditSearch(w http.ResponseWriter, r *http.Request, s *session, body []byte) {
	var in struct {
		Patient, Recipient, Purpose, From, To, Cursor string
		BreakGlass                                    bool `json:"break_glass"`
		Limit                                         int
	}
	if !decodeBody(w, body, &in) {
		return
	}
	q := values("patient", in.Patient, "recipient", in.Recipient, "purpose", in.Purpose,
		"from", in.From, "to", in.To, "cursor", in.Cursor)
	if in.BreakGlass {
		q.Set("break_glass", "true")
	}
	if in.Limit != 0 {
		q.Set("limit", strconv.Itoa(in.Limit))
	}
	h.admin(w, r, s, http.MethodGet, "/admin/audit", q, nil)
}

// auditAccounting relays a patient's accounting of disclosures.
func (h *Handler) auditAccounting(w http.ResponseWriter, r *http.Request, s *session, body []byte) {
	var in struct{ Patient, From, To, Format string }
	if !decodeBody(w, body, &in) {
		return
	}
	h.admin(w, r, s, http.MethodGet, "/admin/audit/accounting",
		values("patient", in.Patient, "from", in.From, "to", in.To, "format", in.Format), nil)
}

// policyStatus relays GET /admin/policy.
func (h *Handler) policyStatus(w http.ResponseWriter, r *http.Request, s *session, _ []byte) {
	h.admin(w, r, s, http.MethodGet, "/admin/policy", nil, nil)
}

// decide relays a simulation (POST /admin/decide) as it came.
func (h *Handler) decide(w http.ResponseWriter, r *http.Request, s *session, body []byte) {
	h.admin(w, r, s, http.MethodPost, "/admin/decide", nil, body)
}

// consentID is a FHIR id.
var consentID = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// consentSearch relays a consent search by patient (and status).
func (h *Handler) consentSearch(w http.ResponseWriter, r *http.Request, s *session, body []byte) {
	var in struct{ Patient, Status string }
	if !decodeBody(w, body, &in) {
		return
	}
	if in.Patient == "" {
		writeError(w, http.StatusBadRequest, "patient is required, e.g. Patient/pat-0")
		return
	}
	h.admin(w, r, s, http.MethodGet, "/admin/Consent", values("patient", in.Patient, "status", in.Status), nil)
}

// idBody reads {"id": "..."} and checks the id.
func idBody(w http.ResponseWriter, body []byte) (string, bool) {
	var in struct{ ID string }
	if !decodeBody(w, body, &in) {
		return "", false
	}
	if !consentID.MatchString(in.ID) {
		writeError(w, http.StatusBadRequest, "id must be a FHIR id")
		return "", false
	}
	return in.ID, true
}

// consentHistory relays every version of one consent.
func (h *Handler) consentHistory(w http.ResponseWriter, r *http.Request, s *session, body []byte) {
	if id, ok := idBody(w, body); ok {
		h.admin(w, r, s, http.MethodGet, "/admin/Consent/"+id+"/_history", nil, nil)
	}
}

// consentCreate relays a new consent (a FHIR Consent resource as the body).
func (h *Handler) consentCreate(w http.ResponseWriter, r *http.Request, s *session, body []byte) {
	h.admin(w, r, s, http.MethodPost, "/admin/Consent", nil, body)
}

// consentRevoke relays $revoke.
func (h *Handler) consentRevoke(w http.ResponseWriter, r *http.Request, s *session, body []byte) {
	if id, ok := idBody(w, body); ok {
		h.admin(w, r, s, http.MethodPost, "/admin/Consent/"+id+"/$revoke", nil, []byte(`{"resourceType":"Parameters"}`))
	}
}
