package proxy

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// versionsUpstream answers reads from a map of paths (versions included)
// and echoes creates with an id; it records the creates that reach it.
type versionsUpstream struct {
	res     map[string]string
	mu      sync.Mutex
	creates int
}

func (u *versionsUpstream) handler(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/fhir/R4/")
	if r.Method == http.MethodGet {
		if b, ok := u.res[path]; ok {
			fhirJSONHandler(200, b)(w, r)
			return
		}
		fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
		return
	}
	b, _ := io.ReadAll(r.Body)
	u.mu.Lock()
	u.creates++
	u.mu.Unlock()
	body := strings.Replace(string(b), `{"resourceType":"Observation",`, `{"resourceType":"Observation","id":"new1","meta":{"versionId":"1"},`, 1)
	w.Header().Set("Location", "Observation/new1/_history/1")
	fhirJSONHandler(201, body)(w, r)
}

// TestWrittenVersionedReferenceCheckedQA35C: a reference written to a
// version of a resource (Condition/c1/_history/1) is checked by that
// version as well as by the resource's current one: a version the caller
// may not read answers the same 400 as a missing one, and nothing is
// written. Only the current version was read: org-b, which may not read
// p1's SUD records, created an Observation whose focus named version 1 of
// Condition/c1, coded opioid dependence then and a headache now; the
// labeller labels the Observation from the version it names, so the
// create answered 201 without a body (the result withheld), where a
// version that is ordinary answered 201 with it: whether an older version
// the caller may not read is sensitive.
func TestWrittenVersionedReferenceCheckedQA35C(t *testing.T) {
	t.Parallel()
	const fj = "application/fhir+json"
	cond := func(version, code string) string {
		return `{"resourceType":"Condition","id":"c1","meta":{"versionId":"` + version + `"},"subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"` + code + `"}]}}`
	}
	up := &versionsUpstream{res: map[string]string{
		"Patient/p1":              `{"resourceType":"Patient","id":"p1"}`,
		"Condition/c1":            cond("3", "R51.9"),
		"Condition/c1/_history/3": cond("3", "R51.9"),
		"Condition/c1/_history/2": cond("2", "R51.9"),
		"Condition/c1/_history/1": cond("1", "F11.20"),
	}}
	h := newHarness(t, up.handler)
	obs := func(focus string) string {
		return `{"resourceType":"Observation","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"pain score"},"focus":[{"reference":"` + focus + `"}]}`
	}
	if resp, got := h.get("/fhir/Condition/c1/_history/1", tokOtherWriter); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("org-b may not read version 1: %d %s", resp.StatusCode, got)
	}
	sud, sb := h.send(http.MethodPost, "/fhir/Observation", tokOtherWriter, fj, obs("Condition/c1/_history/1"))
	missing, mb := h.send(http.MethodPost, "/fhir/Observation", tokOtherWriter, fj, obs("Condition/c1/_history/9"))
	if sud.StatusCode != http.StatusBadRequest || sb != strings.Replace(mb, "_history/9", "_history/1", 1) {
		t.Fatalf("a reference to a withheld version: %d %s; to a missing one: %d %s", sud.StatusCode, sb, missing.StatusCode, mb)
	}
	up.mu.Lock()
	n := up.creates
	up.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d creates reached the upstream", n)
	}
	if resp, got := h.send(http.MethodPost, "/fhir/Observation", tokOtherWriter, fj, obs("Condition/c1/_history/2")); resp.StatusCode != http.StatusCreated || !strings.Contains(got, "pain score") {
		t.Fatalf("a reference to a version org-b may read: %d %s", resp.StatusCode, got)
	}
}
