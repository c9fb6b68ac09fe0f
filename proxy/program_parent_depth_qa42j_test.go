package proxy

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestParentChainsDeeperThanLabelsTravelQA42J (QA round 42, helper J; G's
// G-4): on a site with a Part 2 program, an Observation performed by a role
// at an ordinary hospital's unit 12 levels down was 502 for every caller,
// and a Patient whose practitioner held that role too, re-reading 8 entries
// on each request: a directory entry's parents were read through Resolve,
// which refused chains deeper than labels travel. Parent links pass on only
// what an entry stands for and have their own bound: the ordinary record is
// 200 to org-b (each entry read once), the same record under a program at
// the top of the chain is 404 to org-b and labelled Part 2 for a consented
// caller; and a searchset holding the record, the role and the chain in
// that order (_include:iterate) no longer gives org-b the program's record.
func TestParentChainsDeeperThanLabelsTravelQA42J(t *testing.T) {
	t.Parallel()
	entries := map[string]string{
		"/Organization/p2": `{"resourceType":"Organization","id":"p2","name":"Zeta House"}`,
		"/Patient/p1":      `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"generalPractitioner":[{"reference":"PractitionerRole/rh"}]}`,
		"/Patient/p2":      `{"resourceType":"Patient","id":"p2","name":[{"family":"Roe"}],"generalPractitioner":[{"reference":"PractitionerRole/ru"}]}`,
	}
	var chain []string // the program's record, its role and units, the program: a searchset's order
	obs := func(id, role string) string {
		return `{"resourceType":"Observation","id":"` + id + `","status":"final","subject":{"reference":"Patient/p1"},` +
			`"code":{"text":"blood pressure"},"performer":[{"reference":"PractitionerRole/` + role + `"}]}`
	}
	entries["/Observation/oh"], entries["/Observation/ou"] = obs("oh", "rh"), obs("ou", "ru")
	chain = append(chain, entries["/Observation/ou"])
	for _, p := range []string{"h", "u"} {
		role := `{"resourceType":"PractitionerRole","id":"r` + p + `","organization":{"reference":"Organization/` + p + `12"}}`
		entries["/PractitionerRole/r"+p] = role
		if p == "u" {
			chain = append(chain, role)
		}
		for i := 12; i >= 0; i-- {
			parent := ""
			switch {
			case i > 0:
				parent = `,"partOf":{"reference":"Organization/` + p + strconv.Itoa(i-1) + `"}`
			case p == "u":
				parent = `,"partOf":{"reference":"Organization/p2"}`
			}
			org := `{"resourceType":"Organization","id":"` + p + strconv.Itoa(i) + `"` + parent + `}`
			entries["/Organization/"+p+strconv.Itoa(i)] = org
			if p == "u" {
				chain = append(chain, org)
			}
		}
	}
	chain = append(chain, entries["/Organization/p2"])
	var b strings.Builder
	b.WriteString(`{"resourceType":"Bundle","type":"searchset","total":1,"entry":[`)
	for i, e := range chain {
		mode := "include"
		if i == 0 {
			mode = "match"
		}
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"resource":` + e + `,"search":{"mode":"` + mode + `"}}`)
	}
	b.WriteString(`]}`)
	entries["/Observation"] = b.String()

	var mu sync.Mutex
	reads := map[string]int{}
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reads[r.URL.Path]++
		mu.Unlock()
		for k, v := range entries {
			if strings.HasSuffix(r.URL.Path, k) {
				fhirJSONHandler(http.StatusOK, v)(w, r)
				return
			}
		}
		fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
	}, withProgram)
	for _, round := range []string{"first", "repeat"} {
		if resp, body := h.get("/fhir/Observation/oh", tokOther); resp.StatusCode != http.StatusOK || strings.Contains(body, "42CFRPart2") {
			t.Errorf("%s: org-b, Observation by a role 12 units down an ordinary hospital: %d %s, want 200 unlabelled", round, resp.StatusCode, body)
		}
	}
	mu.Lock()
	for k, n := range reads {
		if strings.Contains(k, "/Organization/h") && n != 1 {
			t.Errorf("%s read %d times; want once, then known", k, n)
		}
	}
	mu.Unlock()
	if resp, body := h.get("/fhir/Patient/p1", tokOther); resp.StatusCode != http.StatusOK || !strings.Contains(body, "PractitionerRole/rh") {
		t.Errorf("org-b, Patient of the hospital's role: %d %s, want 200 whole", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Observation/ou", tokOther); resp.StatusCode != http.StatusNotFound {
		t.Errorf("org-b, Observation by a role 12 units under the program: %d %s, want 404", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Observation/ou", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, "42CFRPart2") {
		t.Errorf("consented, the same: %d %s, want 200 labelled 42CFRPart2", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Patient/p2", tokOther); resp.StatusCode != http.StatusOK || strings.Contains(body, "PractitionerRole/ru") || !strings.Contains(body, `"Roe"`) {
		t.Errorf("org-b, Patient of the program's role: %d %s, want 200 without PractitionerRole/ru", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Observation?_id=ou&_include=Observation:performer&_include:iterate=PractitionerRole:organization&_include:iterate=Organization:partof", tokOther); resp.StatusCode != http.StatusOK || strings.Contains(body, `"ou"`) || strings.Contains(body, "blood pressure") {
		t.Errorf("org-b, the program's record with its chain included: %d %s, want 200 without it", resp.StatusCode, body)
	}
}
