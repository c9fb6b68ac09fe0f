package proxy

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

// qa41iDirectory answers a Patient p1 (pat) and the directory entries it
// may name: Organization/u1 (a department partOf the program p2),
// PractitionerRole/r1 (organization p2), Location/l1 (managed by p2) and
// PractitionerRole/r9 (of an ordinary hospital); reads counts the reads of
// each path; fail makes the entries' reads fail.
func qa41iDirectory(pat string, reads map[string]int, mu *sync.Mutex, fail bool) http.HandlerFunc {
	entries := map[string]string{
		"PractitionerRole/r1":  `{"resourceType":"PractitionerRole","id":"r1","organization":{"reference":"Organization/p2"}}`,
		"Organization/u1":      `{"resourceType":"Organization","id":"u1","name":"Detox unit","partOf":{"reference":"Organization/p2"}}`,
		"Location/l1":          `{"resourceType":"Location","id":"l1","managingOrganization":{"reference":"Organization/p2"}}`,
		"PractitionerRole/r9":  `{"resourceType":"PractitionerRole","id":"r9","organization":{"reference":"Organization/general"}}`,
		"Organization/p2":      `{"resourceType":"Organization","id":"p2","name":"Zeta House"}`,
		"Organization/general": `{"resourceType":"Organization","id":"general"}`,
	}
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range entries {
			if strings.HasSuffix(r.URL.Path, "/"+k) {
				mu.Lock()
				reads[k]++
				mu.Unlock()
				if fail {
					fhirJSONHandler(http.StatusInternalServerError, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception"}]}`)(w, r)
					return
				}
				fhirJSONHandler(http.StatusOK, v)(w, r)
				return
			}
		}
		for _, typ := range []string{"/Organization/", "/PractitionerRole/", "/Practitioner/", "/Location/"} {
			if strings.Contains(r.URL.Path, typ) {
				fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
				return
			}
		}
		fhirJSONHandler(http.StatusOK, pat)(w, r)
	}
}

// TestPatientEnrolmentThroughDirectoryQA41I (QA round 41, area I; A-3): a
// Patient managed by a department partOf the Part 2 program
// (Organization/u1), treated by the program's PractitionerRole/r1, or
// naming the program's Location in an extension, is the program's patient
// (42 CFR 2.13(c)) as one naming Organization/p2 is: those members are cut
// for org-b, silently, and kept (labelled) for a consented caller; a role
// of an ordinary hospital stays. The entries are read once and then known
// from the label cache; a site without programs reads none; an entry that
// cannot be read withholds the Patient (fail closed).
func TestPatientEnrolmentThroughDirectoryQA41I(t *testing.T) {
	t.Parallel()
	pat := `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],` +
		`"extension":[{"url":"http://example.org/treated-at","valueReference":{"reference":"Location/l1"}}],` +
		`"generalPractitioner":[{"reference":"PractitionerRole/r9"},{"reference":"PractitionerRole/r1"}],` +
		`"managingOrganization":{"reference":"Organization/u1"}}`
	var mu sync.Mutex
	reads := map[string]int{}
	h := newHarness(t, qa41iDirectory(pat, reads, &mu, false), withProgram)
	for i := range 2 {
		resp, body := h.get("/fhir/Patient/p1", tokOther)
		if resp.StatusCode != http.StatusOK || strings.Contains(body, "Organization/u1") || strings.Contains(body, "PractitionerRole/r1") ||
			strings.Contains(body, "Location/l1") || !strings.Contains(body, "PractitionerRole/r9") || !strings.Contains(body, `"Doe"`) ||
			strings.Contains(body, "REDACTED") || strings.Contains(body, "42CFRPart2") {
			t.Fatalf("org-b, read %d: %d %s", i+1, resp.StatusCode, body)
		}
	}
	mu.Lock()
	for _, k := range []string{"Organization/u1", "PractitionerRole/r1", "Location/l1"} {
		if reads[k] != 1 {
			t.Errorf("%s read %d times, want once (then known from the label cache)", k, reads[k])
		}
	}
	mu.Unlock()
	resp, body := h.get("/fhir/Patient/p1", tokConsented)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Organization/u1") || !strings.Contains(body, "PractitionerRole/r1") ||
		!strings.Contains(body, "Location/l1") || !strings.Contains(body, "PROCESSINLINELABEL") {
		t.Fatalf("consented caller: %d %s", resp.StatusCode, body)
	}

	// Without programs: no enrolment member read (an extension's
	// reference is read as any record's), the Patient as it came.
	none := map[string]int{}
	h2 := newHarness(t, qa41iDirectory(pat, none, &mu, false))
	if resp, body := h2.get("/fhir/Patient/p1", tokOther); resp.StatusCode != http.StatusOK || body != pat {
		t.Fatalf("no programs: %d %s", resp.StatusCode, body)
	}
	mu.Lock()
	if none["Organization/u1"]+none["PractitionerRole/r1"]+none["PractitionerRole/r9"] != 0 {
		t.Errorf("a site without programs read %v", none)
	}
	mu.Unlock()

	// An entry that cannot be read: withheld, not shown ordinary.
	h3 := newHarness(t, qa41iDirectory(pat, map[string]int{}, &mu, true), withProgram)
	if resp, body := h3.get("/fhir/Patient/p1", tokOther); resp.StatusCode == http.StatusOK || strings.Contains(body, "Organization/u1") {
		t.Fatalf("unreadable entry: %d %s", resp.StatusCode, body)
	}
}

// TestPatientSearchByDirectoryEntryQA41I (QA round 41, area I; A-3):
// Patient?organization=Organization/u1 (a department partOf the Part 2
// program) or general-practitioner=PractitionerRole/r1 (its role) lists
// the program's patients as organization=Organization/p2 does, which is
// refused: refused too, in the spellings guardEnrolmentSearch reads; an
// ordinary role's search goes through, and a site without programs reads
// no entry.
func TestPatientSearchByDirectoryEntryQA41I(t *testing.T) {
	t.Parallel()
	bundle := `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient","id":"p1"}}]}`
	var mu sync.Mutex
	reads := map[string]int{}
	h := newHarness(t, qa41iDirectory(bundle, reads, &mu, false), withProgram)
	for _, path := range []string{
		"/fhir/Patient?organization=Organization/u1",
		"/fhir/Patient?organization=u1",
		"/fhir/Patient?organization:Organization=u1",
		"/fhir/Patient?name=Doe&organization=x,Organization/u1",
		"/fhir/Patient?general-practitioner=PractitionerRole/r1",
		"/fhir/Patient?general-practitioner=r1",
		"/fhir/Patient?general-practitioner:PractitionerRole=r1",
		"/fhir?_type=Patient&general-practitioner=PractitionerRole/r1",
	} {
		resp, body := h.get(path, tokConsented)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Part 2 program") {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	for _, path := range []string{"/fhir/Patient?general-practitioner=PractitionerRole/r9", "/fhir/Patient?organization=Organization/general"} {
		if resp, body := h.get(path, tokConsented); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	none := map[string]int{}
	h2 := newHarness(t, qa41iDirectory(bundle, none, &mu, false))
	if resp, body := h2.get("/fhir/Patient?organization=Organization/u1", tokConsented); resp.StatusCode != http.StatusOK {
		t.Errorf("no programs: %d %s", resp.StatusCode, body)
	}
	mu.Lock()
	if len(none) != 0 {
		t.Errorf("a site without programs read %v", none)
	}
	mu.Unlock()
}
