package fhirmem

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Errors a write can fail with; ServeHTTP maps them to HTTP statuses.
var (
	errInvalid  = errors.New("invalid resource")
	errConflict = errors.New("resource already exists")
)

var (
	idPattern   = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)
	typePattern = regexp.MustCompile(`^[A-Z][A-Za-z]{0,63}$`)
)

// record is one resource and its version history; versions[i] holds the
// bytes of version i+1 exactly as they were written.
type record struct {
	typ, id  string
	patient  string // id of the patient whose compartment holds it, "" when none
	versions [][]byte
}

func (r *record) key() string     { return r.typ + "/" + r.id }
func (r *record) current() []byte { return r.versions[len(r.versions)-1] }
func (r *record) version() int    { return len(r.versions) }

// indexed is what the server learns from a resource: only what it needs to
// route and search, never a decoded copy of the content.
type indexed struct {
	typ, id, patient string
}

// index decodes a resource's type, id and patient. Only the top-level
// members are split, case-sensitively as FHIR JSON requires; their values
// stay raw except the few read here. An absent id is allowed here; callers
// decide whether they need one.
func index(body []byte) (indexed, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		return indexed{}, fmt.Errorf("%w: not a JSON object", errInvalid)
	}
	var ix indexed
	if json.Unmarshal(top["resourceType"], &ix.typ) != nil || !typePattern.MatchString(ix.typ) {
		return indexed{}, fmt.Errorf("%w: resourceType %s", errInvalid, top["resourceType"])
	}
	if raw, ok := top["id"]; ok && (json.Unmarshal(raw, &ix.id) != nil || !idPattern.MatchString(ix.id)) {
		return indexed{}, fmt.Errorf("%w: id %s", errInvalid, raw)
	}
	if ix.typ == "Patient" {
		ix.patient = ix.id
		return ix, nil
	}
	for _, key := range []string{"subject", "patient", "beneficiary"} {
		if p := patientOfRaw(top[key]); p != "" {
			ix.patient = p
			break
		}
	}
	return ix, nil
}

// reference is a FHIR Reference's literal reference.
type reference struct {
	Reference string `json:"reference"`
}

// patientOfRaw returns the patient id named by a Reference or by the first
// Patient reference of an array of References.
func patientOfRaw(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	var refs []reference
	if raw[0] == '[' {
		if json.Unmarshal(raw, &refs) != nil {
			return ""
		}
	} else {
		var one reference
		if json.Unmarshal(raw, &one) != nil {
			return ""
		}
		refs = []reference{one}
	}
	for _, r := range refs {
		if id := patientID(r.Reference); id != "" {
			return id
		}
	}
	return ""
}

// patientID returns the patient id named by a literal reference:
// "Patient/x", an absolute "http://host/fhir/Patient/x" or a versioned
// "Patient/x/_history/2". It returns "" for anything else.
func patientID(ref string) string {
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	i := strings.LastIndex(ref, "Patient/")
	if i < 0 || (i > 0 && ref[i-1] != '/') {
		return ""
	}
	id := ref[i+len("Patient/"):]
	if !idPattern.MatchString(id) {
		return ""
	}
	return id
}

// store holds the resources; it is not safe for concurrent use on its own.
type store struct {
	records   map[string]*record  // by "Type/id"
	byType    map[string][]string // ids in creation order
	byPatient map[string][]string // "Type/id" in creation order, the Patient excluded
	nextID    int
}

func newStore() *store {
	return &store{records: map[string]*record{}, byType: map[string][]string{}, byPatient: map[string][]string{}}
}

// put stores body as the next version of its resource and returns the
// record and whether it was created.
func (s *store) put(ix indexed, body []byte) (*record, bool) {
	key := ix.typ + "/" + ix.id
	rec, ok := s.records[key]
	if !ok {
		rec = &record{typ: ix.typ, id: ix.id}
		s.records[key] = rec
		s.byType[ix.typ] = append(s.byType[ix.typ], ix.id)
	}
	if rec.patient != ix.patient {
		s.unlinkPatient(rec)
		rec.patient = ix.patient
		if ix.patient != "" && ix.typ != "Patient" {
			s.byPatient[ix.patient] = append(s.byPatient[ix.patient], key)
		}
	}
	rec.versions = append(rec.versions, body)
	return rec, !ok
}

// remove deletes a resource and its history; it reports whether it existed.
func (s *store) remove(typ, id string) bool {
	rec, ok := s.records[typ+"/"+id]
	if !ok {
		return false
	}
	s.unlinkPatient(rec)
	delete(s.records, rec.key())
	s.byType[typ] = without(s.byType[typ], id)
	return true
}

func (s *store) unlinkPatient(rec *record) {
	if rec.patient == "" || rec.typ == "Patient" {
		return
	}
	s.byPatient[rec.patient] = without(s.byPatient[rec.patient], rec.key())
}

func without(xs []string, x string) []string {
	out := xs[:0:0]
	for _, v := range xs {
		if v != x {
			out = append(out, v)
		}
	}
	return out
}

// newID returns an unused server-assigned id for typ.
func (s *store) newID(typ string) string {
	for {
		s.nextID++
		id := "fhirmem-" + strconv.Itoa(s.nextID)
		if _, taken := s.records[typ+"/"+id]; !taken {
			return id
		}
	}
}

// withID returns body with "id" inserted as its first member. It is the only
// place the server changes resource bytes: a create without an id.
func withID(body []byte, id string) []byte {
	i := bytes.IndexByte(body, '{')
	out := make([]byte, 0, len(body)+len(id)+8)
	out = append(out, body[:i+1]...)
	out = append(out, `"id":"`...)
	out = append(out, id...)
	out = append(out, `",`...)
	return append(out, body[i+1:]...)
}
