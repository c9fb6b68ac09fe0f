package proxy

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/gin-gonic/gin"
)

// SMART on FHIR scopes, enforced on /fhir before anything is forwarded.
//
// Scope syntax: CONTEXT/TYPE.PERMISSIONS[?QUERY], CONTEXT one of patient,
// user, system; TYPE a resource type or *; PERMISSIONS either v1 (read = r+s,
// write = c+u+d, * = all) or v2 (letters of "cruds", in that order). A scope
// that does not parse grants nothing. A patient/ scope grants only when the
// token also carries a patient claim (the SMART launch context); without it,
// it grants nothing.
//
// Interactions need: read, vread: r; search, history: s; create: c;
// update, patch: u; delete: d; conditional update/patch/delete also s.
// capabilities (metadata): nothing. System-level search needs s on every type
// named by _type, or on * without _type; system-level history needs s on *.
// $everything, $summary and $document need r and s on * (e.g.
// patient/*.rs, user/*.read);
// $export (when enforcement.allow_export lets it through) r and s on each
// _type, on * without one, and on the type it starts from; a
// patient-context token may not export at all. Other
// operations: GET needs r and s on the type (* at system level), POST needs
// every permission (cruds) on it. In a batch or transaction each entry needs
// what its request would need on its own. A page link (paging.go) needs what
// the search it seals needs.
// _include/_revinclude need r on the type they reach (an _include without a
// target type reaches *), and _has:TYPE:... needs s on TYPE.
//
// v2 query restrictions (patient/Observation.rs?category=laboratory) are
// honoured for searches only: the search must carry each restricted
// parameter, with every value (comma-separated alternatives included) among
// the restriction's values; extra parameters only narrow the search. A
// restricted scope grants nothing else: it does not allow a read by id, a
// history or an operation, since the proxy would have to inspect the
// response to tell whether the resource matches the restriction.
//
// Patient compartment: a token with a patient claim reaches only that
// patient's compartment. Here, on the request side, a read, vread, history or
// operation on another Patient, or a compartment search below another
// Patient (Patient/X/Observation), answers exactly as a missing Patient
// (404); writes and batches by a patient-context token are refused (403),
// since the proxy does not check that written content stays in the
// compartment. On the response side every item whose patient is another one
// is withheld without evaluating policy (compartment.go, called from
// decide.go).

// Permission bits of a SMART scope.
const (
	permC uint8 = 1 << iota
	permR
	permU
	permD
	permS
	permAll = permC | permR | permU | permD | permS
)

// smartScope is one parsed SMART scope.
type smartScope struct {
	patient  bool   // context patient/
	typ      string // resource type or "*"
	perms    uint8
	restrict url.Values // v2 query restriction; nil when none
}

// parseSMARTScope parses s; ok is false for anything that is not a SMART
// resource scope (openid, launch, ds4p/... roles, malformed scopes).
func parseSMARTScope(s string) (smartScope, bool) {
	ctx, rest, ok := strings.Cut(s, "/")
	if !ok {
		return smartScope{}, false
	}
	var sc smartScope
	switch ctx {
	case "patient":
		sc.patient = true
	case "user", "system":
	default:
		return smartScope{}, false
	}
	rest, query, hasQuery := strings.Cut(rest, "?")
	typ, perm, ok := strings.Cut(rest, ".")
	if !ok || (typ != "*" && !plainType(typ)) {
		return smartScope{}, false
	}
	sc.typ = typ
	switch perm {
	case "read":
		sc.perms = permR | permS
	case "write":
		sc.perms = permC | permU | permD
	case "*":
		sc.perms = permAll
	default:
		p, ok := v2Perms(perm)
		if !ok {
			return smartScope{}, false
		}
		sc.perms = p
	}
	if hasQuery {
		q, err := url.ParseQuery(query)
		if err != nil || len(q) == 0 {
			return smartScope{}, false
		}
		sc.restrict = q
	}
	return sc, true
}

// v2Perms reads SMART v2 permission letters: a non-empty subsequence of
// "cruds".
func v2Perms(s string) (uint8, bool) {
	const order = "cruds"
	bits := [...]uint8{permC, permR, permU, permD, permS}
	var p uint8
	next := 0
	for i := 0; i < len(s); i++ {
		j := strings.IndexByte(order[next:], s[i])
		if j < 0 {
			return 0, false
		}
		p |= bits[next+j]
		next += j + 1
	}
	return p, s != ""
}

func plainType(s string) bool {
	if s == "" || len(s) > 64 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// grants are the SMART scopes a caller may use.
type grants []smartScope

func grantsOf(c authn.Caller) grants {
	var g grants
	for _, s := range c.Scopes {
		sc, ok := parseSMARTScope(s)
		if !ok || (sc.patient && c.Patient == "") {
			continue
		}
		g = append(g, sc)
	}
	return g
}

// allows reports whether some scope grants every bit of perm on typ ("*":
// only a type-wildcard scope does). q is the search's parameters, nil when
// the interaction is not a search a restriction can be checked against.
func (g grants) allows(typ string, perm uint8, q url.Values) bool {
	for bit := uint8(1); bit != 0 && bit <= permS; bit <<= 1 {
		if perm&bit == 0 {
			continue
		}
		ok := false
		for _, sc := range g {
			if sc.perms&bit == 0 || (sc.typ != "*" && sc.typ != typ) {
				continue
			}
			if sc.restrict != nil && (bit != permS || q == nil || !restrictionMet(sc.restrict, q)) {
				continue
			}
			ok = true
			break
		}
		if !ok {
			return false
		}
	}
	return true
}

// restrictionMet: for each restricted parameter, the search carries it at
// least once with every (comma-separated) value among the allowed ones.
// Repeated parameters are ANDed in FHIR, so one conforming occurrence is
// enough to keep the search inside the restriction.
func restrictionMet(restrict, q url.Values) bool {
	for k, allowedVals := range restrict {
		allowed := map[string]bool{}
		for _, v := range allowedVals {
			for _, a := range strings.Split(v, ",") {
				allowed[a] = true
			}
		}
		met := false
		for _, v := range q[k] {
			all := v != ""
			for _, a := range strings.Split(v, ",") {
				all = all && allowed[a]
			}
			if all {
				met = true
				break
			}
		}
		if !met {
			return false
		}
	}
	return true
}

// need is one permission an interaction requires.
type need struct {
	typ  string
	perm uint8
	q    url.Values // for searches: the parameters restrictions are checked against
}

// needs lists what req requires; q are the request's parameters (URL query
// and, for POST _search, the form body).
func needs(req fhirRequest, method string, q url.Values) []need {
	typeOrAll := req.Type
	if typeOrAll == "" {
		typeOrAll = "*"
	}
	var out []need
	switch req.Interaction {
	case Capabilities:
		return nil
	case Read, VRead:
		out = append(out, need{req.Type, permR, nil})
	case Search:
		if req.Type == "" {
			types := splitTypes(q["_type"])
			if len(types) == 0 {
				types = []string{"*"}
			}
			for _, t := range types {
				out = append(out, need{t, permS, q})
			}
		} else {
			out = append(out, need{req.Type, permS, q})
		}
	case History:
		out = append(out, need{typeOrAll, permS, nil})
	case Create:
		out = append(out, need{req.Type, permC, nil})
	case Update, Patch, Delete:
		p := map[string]uint8{Update: permU, Patch: permU, Delete: permD}[req.Interaction]
		if req.ID == "" {
			p |= permS // conditional: the server searches first
		}
		out = append(out, need{req.Type, p, nil})
	case Operation:
		switch {
		case req.Operation == "$everything" || req.Operation == "$summary" || req.Operation == "$document":
			// A record, a patient summary (IPS) or a document Bundle
			// holds resources of any type: $summary and $document needed
			// r and s on Patient or Composition only, so user/Patient.rs
			// read the patient's conditions, medications and results.
			out = append(out, need{"*", permR | permS, nil})
			if req.Operation == "$document" && (method != http.MethodGet || persists(q["persist"])) {
				// persist=true has the server store the document as a
				// Bundle: a write, which read scopes do not grant. A POST
				// may say so in a body not read here.
				out = append(out, need{"Bundle", permC, nil})
			}
		case strings.HasPrefix(req.Operation, "$export"):
			// Bulk export (enforcement.allow_export) hands over every
			// resource of the types it exports, whatever the type it
			// starts from (Patient/$export, Group/g/$export): r and s
			// on each _type, on * without one, as SMART Bulk Data asks.
			// Only the starting type was needed, so user/Patient.rs
			// exported every type. A POST names its _type in a body
			// not read here: *.
			types := splitTypes(q["_type"])
			if len(types) == 0 || method != http.MethodGet {
				types = []string{"*"}
			}
			for _, t := range types {
				out = append(out, need{t, permR | permS, nil})
			}
			if req.Type != "" {
				out = append(out, need{req.Type, permR | permS, nil})
			}
		case method == http.MethodGet:
			out = append(out, need{typeOrAll, permR | permS, nil})
		default:
			out = append(out, need{typeOrAll, permAll, nil})
		}
	case Batch:
		return nil // each entry counts as its own request: batchNeeds
	default:
		out = append(out, need{"*", permAll, nil})
	}
	return append(out, includeNeeds(q)...)
}

func splitTypes(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				if !plainType(t) {
					t = "*"
				}
				out = append(out, t)
			}
		}
	}
	return out
}

// includeNeeds: what _include, _revinclude, _has and chains reach. The
// names are compared in any case, as the search rules (searchguard.go)
// compare them: a server reading _INCLUDE as _include must not reach a
// type the scopes were never asked about.
func includeNeeds(q url.Values) []need {
	var out []need
	for k, vs := range q {
		base, _, _ := strings.Cut(k, ":")
		switch strings.ToLower(base) {
		case "_include":
			for _, v := range vs {
				parts := strings.Split(v, ":")
				t := "*"
				if len(parts) >= 3 && plainType(parts[2]) {
					t = parts[2]
				}
				out = append(out, need{t, permR, nil})
			}
		case "_revinclude":
			for _, v := range vs {
				t, _, _ := strings.Cut(v, ":")
				out = append(out, need{reachedType(t), permR, nil})
			}
		case "_sort":
			// a chained sort key reaches what a chained parameter does
			for _, v := range vs {
				for _, key := range strings.Split(v, ",") {
					out = append(out, chainNeeds(strings.TrimPrefix(strings.TrimSpace(key), "-"))...)
				}
			}
		default:
			out = append(out, chainNeeds(k)...)
		}
	}
	return out
}

// chainNeeds: the types a search parameter's name reaches beyond the type
// searched, each needing s: every link of a chain (subject:Patient.name
// reaches Patient; subject.name, which names no target type, any type: *)
// and every _has reverse chain (_has:Observation:patient:code reaches
// Observation), nested ones and chains inside a _has included. A chain
// tests facts about the resources it reaches (Observation?subject:Patient.
// name=Smith tells whose Observations they are), so a token that may not
// search a type may not reach it through another's search either
// (enforcement.allow_chains); only _has was counted.
func chainNeeds(k string) []need {
	var out []need
	for k != "" {
		if len(k) >= 4 && strings.EqualFold(k[:4], "_has") {
			rest, ok := strings.CutPrefix(k[4:], ":")
			typ, rest, _ := strings.Cut(rest, ":")
			if !ok {
				typ = "" // not _has:TYPE:...: whatever it reaches, * covers it
			}
			out = append(out, need{reachedType(typ), permS, nil})
			_, k, _ = strings.Cut(rest, ":") // past the reference: a parameter of typ
			continue
		}
		link, rest, ok := strings.Cut(k, ".")
		if !ok {
			break
		}
		_, typ, _ := strings.Cut(link, ":")
		out = append(out, need{reachedType(typ), permS, nil})
		k = rest
	}
	return out
}

// reachedType is t when it is spelled as a resource type, else * (any
// type: only a type-wildcard scope covers it).
func reachedType(t string) string {
	if !plainType(t) {
		return "*"
	}
	return t
}

// enforceScopes is the /fhir middleware: SMART scopes per interaction and
// type, and the request side of the patient compartment. Nothing is
// forwarded when it refuses.
func (s *Server) enforceScopes(c *gin.Context) {
	r := c.Request
	caller := callerOf(c)
	path, q := c.Param("path"), r.URL.Query()
	if tok, ok := pageTokenOf(path); ok && r.Method == http.MethodGet {
		// a page link: check the search it seals, as if asked again; for
		// a page the upstream names by a handle, the search that began
		// the chain (origin.go)
		p, rawQuery, _, w, f := s.openWindow(caller, tok, time.Now())
		if f != nil {
			c.Next() // handleFHIR answers the invalid link; it forwards nothing
			return
		}
		if w.origin != "" {
			p, rawQuery, _ = strings.Cut(w.origin, "?")
			p = strings.TrimPrefix(p, "/")
		}
		path = p
		if q, _ = url.ParseQuery(rawQuery); q == nil {
			q = url.Values{}
		}
	}
	req, err := parseFHIRPath(r.Method, path)
	if err != nil || checkRequest(r) != nil {
		c.Next() // handleFHIR answers the malformed request; it forwards nothing
		return
	}
	if caller.Patient != "" {
		if other, ok := otherPatient(req, path, caller.Patient); ok {
			writeNotFound(c, "Patient", other)
			return
		}
		switch req.Interaction {
		case Create, Update, Patch, Delete, Batch:
			forbidden(c, "a patient-context token may not write through the proxy")
			return
		case Operation:
			if strings.HasPrefix(req.Operation, "$export") {
				// The export's files come from the server past every
				// check here: nothing would keep them to the patient.
				forbidden(c, "a patient-context token may not use bulk export: its files would not be kept to the patient's compartment")
				return
			}
			if r.Method != http.MethodGet && req.Operation != "$everything" {
				forbidden(c, "a patient-context token may not write through the proxy")
				return
			}
		}
	}
	if req.Interaction == Search && r.Method == http.MethodPost {
		form, ok := s.searchForm(c)
		if !ok {
			return
		}
		for k, vs := range form {
			q[k] = append(q[k], vs...)
		}
	}
	ns := needs(req, r.Method, q)
	if req.Interaction == Batch {
		var ok bool
		if ns, ok = s.batchNeeds(c); !ok {
			return
		}
	}
	g := grantsOf(caller)
	for _, n := range ns {
		if !g.allows(n.typ, n.perm, n.q) {
			what := n.typ
			if what == "*" {
				what = "all resource types"
			}
			// interaction and type only: no id, no query (PHI)
			s.log.Info("SMART scopes refused the request", "request_id", c.GetString(requestIDKey),
				"interaction", req.Interaction, "type", n.typ)
			forbidden(c, "the token's SMART scopes do not permit this interaction on "+what)
			return
		}
	}
	c.Next()
}

// batchNeeds reads a batch or transaction Bundle (restoring the body for
// the upstream) and lists what each entry's request needs. A body that is
// not a Bundle of entries with a request each, or an entry that is not a
// FHIR REST interaction, is refused.
func (s *Server) batchNeeds(c *gin.Context) ([]need, bool) {
	b, ok := s.readBodyRestoring(c)
	if !ok {
		return nil, false
	}
	var bundle struct {
		ResourceType string `json:"resourceType"`
		Entry        []struct {
			Request *struct {
				Method string `json:"method"`
				URL    string `json:"url"`
			} `json:"request"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(b, &bundle); err != nil || bundle.ResourceType != "Bundle" {
		writeOutcome(c.Writer, http.StatusBadRequest, "invalid", "a batch or transaction must be a Bundle")
		c.Abort()
		return nil, false
	}
	var out []need
	for _, e := range bundle.Entry {
		if e.Request == nil {
			writeOutcome(c.Writer, http.StatusBadRequest, "invalid", "every batch entry needs a request")
			c.Abort()
			return nil, false
		}
		p, rawQuery, _ := strings.Cut(e.Request.URL, "?")
		req, err := parseFHIRPath(e.Request.Method, p)
		q, qerr := url.ParseQuery(rawQuery)
		if err != nil || qerr != nil || req.Interaction == Batch {
			writeOutcome(c.Writer, http.StatusBadRequest, "invalid", "a batch entry's request is not a FHIR REST interaction the proxy supports")
			c.Abort()
			return nil, false
		}
		if callerOf(c).Patient != "" && e.Request.Method != http.MethodGet {
			forbidden(c, "a patient-context token may not write through the proxy")
			return nil, false
		}
		out = append(out, needs(req, e.Request.Method, q)...)
	}
	return out, true
}

// readBodyRestoring reads the request body within the request size limit
// and puts it back for the stages after this one.
func (s *Server) readBodyRestoring(c *gin.Context) ([]byte, bool) {
	r := c.Request
	if r.Body == nil || r.Body == http.NoBody {
		return nil, true
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, s.opts.MaxRequestBodyBytes+1))
	_ = r.Body.Close()
	if err != nil {
		writeOutcome(c.Writer, http.StatusBadRequest, "invalid", "the request body could not be read")
		c.Abort()
		return nil, false
	}
	if int64(len(b)) > s.opts.MaxRequestBodyBytes {
		writeOutcome(c.Writer, http.StatusRequestEntityTooLarge, "too-costly", "the request body is too large")
		c.Abort()
		return nil, false
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.ContentLength = int64(len(b))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return b, true
}

// otherPatient reports the id of another patient the request names: an
// interaction on Patient/ID, or a compartment search Patient/ID/TYPE.
func otherPatient(req fhirRequest, path, patient string) (string, bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) >= 2 && segs[0] == "Patient" && req.ID != "" && req.ID != patient {
		return req.ID, true
	}
	return "", false
}

// searchForm reads the form body of a POST _search (restoring it for the
// upstream) so that its parameters are checked like a GET's.
func (s *Server) searchForm(c *gin.Context) (url.Values, bool) {
	b, ok := s.readBodyRestoring(c)
	if !ok {
		return nil, false
	}
	if len(b) == 0 {
		return url.Values{}, true
	}
	if mt, _, _ := mime.ParseMediaType(c.Request.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		writeOutcome(c.Writer, http.StatusUnsupportedMediaType, "not-supported", "a POST _search body must be application/x-www-form-urlencoded")
		c.Abort()
		return nil, false
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		writeOutcome(c.Writer, http.StatusBadRequest, "invalid", "the search body is not a valid form")
		c.Abort()
		return nil, false
	}
	return form, true
}

func forbidden(c *gin.Context, msg string) {
	writeOutcome(c.Writer, http.StatusForbidden, "forbidden", msg)
	c.Abort()
}

// writeNotFound answers as the pipeline answers a missing or withheld
// resource (fhir.go notFound): the same status, headers and body.
func writeNotFound(c *gin.Context, typ, id string) {
	body := notFoundBody(typ, id)
	h := c.Writer.Header()
	h.Set("Content-Type", fhirJSON)
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Accept-Encoding")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	c.Writer.WriteHeader(http.StatusNotFound)
	_, _ = c.Writer.Write(body)
	c.Abort()
}

// persists reports whether $document's persist parameter asks the server
// to store the document: any value but false (a server may read "True",
// or several values, as true).
func persists(values []string) bool {
	for _, v := range values {
		if !strings.EqualFold(strings.TrimSpace(v), "false") {
			return true
		}
	}
	return false
}
