package proxy

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

// bareIDHarness answers Condition/sud1 (withheld from tokOther) and
// Condition/ok1 (readable), 404 for every other read, and records the
// queries of the searches it answers, by type.
func bareIDHarness(t *testing.T, opts ...harnessOpt) (*harness, func(typ string) string, func() []string) {
	var mu sync.Mutex
	queries := map[string]string{}
	var reads []string
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		rest := strings.TrimPrefix(r.URL.Path, "/fhir/R4/")
		typ, tail, _ := strings.Cut(rest, "/")
		if tail == "" || tail == "_search" {
			q := r.URL.RawQuery
			if r.Method == http.MethodPost {
				b, _ := io.ReadAll(r.Body)
				q = string(b)
			}
			mu.Lock()
			queries[typ] = q
			mu.Unlock()
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset"}`)(w, r)
			return
		}
		mu.Lock()
		reads = append(reads, rest)
		mu.Unlock()
		switch rest {
		case "Condition/sud1":
			fhirJSONHandler(200, sudCondition)(w, r)
		case "Condition/ok1":
			fhirJSONHandler(200, `{"resourceType":"Condition","id":"ok1","subject":{"reference":"Patient/p1"},"code":{"text":"x"}}`)(w, r)
		default:
			fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
		}
	}, opts...)
	query := func(typ string) string {
		mu.Lock()
		defer mu.Unlock()
		q, _ := url.QueryUnescape(queries[typ])
		delete(queries, typ)
		return q
	}
	readsSoFar := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := reads
		reads = nil
		return out
	}
	return h, query, readsSoFar
}

// A bare id in a reference parameter is checked as each type the parameter
// may refer to: a withheld Condition is not matched through
// Encounter?diagnosis=sud1 (a server matches a bare id against Condition
// and Procedure), and the query sent is the one a missing id gets.
func TestBareIDSearchChecksEachTargetType(t *testing.T) {
	t.Parallel()
	h, query, reads := bareIDHarness(t)
	for _, c := range []struct{ path, tok, want string }{
		{"/fhir/Encounter?diagnosis=sud1", tokOther, "diagnosis=" + noneID},
		{"/fhir/Encounter?diagnosis=nope", tokOther, "diagnosis=" + noneID},
		{"/fhir/Encounter?diagnosis=sud1/", tokOther, "diagnosis=" + noneID},
		{"/fhir/Encounter?diagnosis=sud1/_history/3", tokOther, "diagnosis=" + noneID},
		{"/fhir/Encounter?diagnosis:not=sud1", tokOther, "diagnosis:not=" + noneID},
		{"/fhir/Encounter?diagnosis=nope,sud1", tokOther, "diagnosis=" + noneID + "," + noneID},
		// readable: the types left, written out
		{"/fhir/Encounter?diagnosis=sud1", tokConsented, "diagnosis=Condition/sud1"},
		{"/fhir/Encounter?diagnosis=ok1", tokOther, "diagnosis=Condition/ok1"},
		// Observation.subject: Group and directory types, not read
		{"/fhir/Observation?subject=p1", tokOther, "subject=p1"},
		// Condition, Procedure, Observation and ImmunizationRecommendation
		{"/fhir/Encounter?reason-reference=ok1", tokOther, "reason-reference=Condition/ok1"},
		// directory-only, and values that are not references: as sent
		{"/fhir/Observation?patient=p1", tokOther, "patient=p1"},
		{"/fhir/Observation?code=1234", tokOther, "code=1234"},
		{"/fhir/Encounter?diagnosis:missing=true", tokOther, "diagnosis:missing=true"},
		{"/fhir/Encounter?diagnosis:identifier=sud1", tokOther, "diagnosis:identifier=sud1"},
		{"/fhir/Observation?custom-x=http://loinc.org|1234", tokOther, "custom-x=http://loinc.org|1234"},
	} {
		resp, body := h.get(c.path, c.tok)
		if q := query(strings.TrimPrefix(strings.Split(c.path, "?")[0], "/fhir/")); resp.StatusCode != http.StatusOK || q != c.want {
			t.Errorf("%s as %s: %d %s; upstream query %q, want %q", c.path, c.tok, resp.StatusCode, body, q, c.want)
		}
	}
	reads()
	// A directory-only parameter reads nothing; subject does not read
	// Group.
	h.get("/fhir/Observation?patient=p1&subject=p1", tokOther)
	if r := reads(); len(r) != 0 {
		t.Errorf("patient=p1&subject=p1 read %v", r)
	}
	h.get("/fhir/Encounter?diagnosis=ok1", tokOther)
	if r := reads(); !slices.Equal(slices.Sorted(slices.Values(r)), []string{"Condition/ok1", "Procedure/ok1"}) {
		t.Errorf("diagnosis=ok1 read %v", r)
	}
	// POST _search: the form too.
	resp, body := h.send(http.MethodPost, "/fhir/Encounter/_search", tokOther, "application/x-www-form-urlencoded", "diagnosis=sud1")
	if q := query("Encounter"); resp.StatusCode != http.StatusOK || q != "diagnosis="+noneID {
		t.Errorf("POST _search: %d %s; upstream form %q", resp.StatusCode, body, q)
	}
}

// A bare id that may name a resource of any type (or more types than the
// proxy reads for one search) is refused whatever it names: the
// answer for a withheld id is the answer for a missing one, and the
// upstream sees neither.
func TestBareIDSearchRefusedWhenUncheckable(t *testing.T) {
	t.Parallel()
	h, query, reads := bareIDHarness(t)
	for _, c := range []struct{ withheld, missing, want string }{
		{"/fhir/List?item=sud1", "/fhir/List?item=nope", "write its type, as item=Condition/<id>"},
		{"/fhir/Observation?focus=sud1", "/fhir/Observation?focus=nope", "write its type"},
		{"/fhir/DocumentReference?related=sud1", "/fhir/DocumentReference?related=nope", "write its type"},
		{"/fhir/Encounter?reason-reference=sud1,a,b,c,d,e", "/fhir/Encounter?reason-reference=nope,a,b,c,d,e", "too many references"},
	} {
		r1, b1 := h.get(c.withheld, tokOther)
		r2, b2 := h.get(c.missing, tokOther)
		if r1.StatusCode != http.StatusBadRequest || b1 != b2 || r2.StatusCode != r1.StatusCode || !strings.Contains(b1, c.want) || strings.Contains(b1, "sud1") {
			t.Errorf("%s: %d %s; %s: %d %s", c.withheld, r1.StatusCode, b1, c.missing, r2.StatusCode, b2)
		}
		typ := strings.TrimPrefix(strings.Split(c.withheld, "?")[0], "/fhir/")
		if q := query(typ); q != "" {
			t.Errorf("%s reached the upstream: %q", c.withheld, q)
		}
	}
	if r := reads(); len(r) != 0 {
		t.Errorf("refused searches read %v", r)
	}
	// Typed, the same searches go.
	if resp, body := h.get("/fhir/List?item=Condition/ok1", tokOther); resp.StatusCode != http.StatusOK || query("List") != "item=Condition/ok1" {
		t.Errorf("List?item=Condition/ok1: %d %s", resp.StatusCode, body)
	}
	// In a batch, a bare id to check refuses the entry, one to refuse
	// refuses it saying why; a plain token does not.
	for u, want := range map[string]string{"Encounter?diagnosis=nope": "send it as its own request", "List?item=nope": "write its type"} {
		resp, body := h.send(http.MethodPost, "/fhir", tokOther, "application/fhir+json",
			`{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"`+u+`"}}]}`)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, want) {
			t.Errorf("batch %s: %d %s", u, resp.StatusCode, body)
		}
	}
	_, body := h.send(http.MethodPost, "/fhir", tokOther, "application/fhir+json",
		`{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Observation?code=1234"}}]}`)
	if strings.Contains(body, "send it as its own request") {
		t.Errorf("batch Observation?code=1234: %s", body)
	}
}
