package proxy

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// TestProgramRoleDeletedQA41H (QA round 41, helper H, A's A-6): the Part 2
// program's PractitionerRole r1 deleted (the clinician left; the server
// answers 410, its history keeps the version naming Organization/p2). The
// Observation r1 performed is still the program's record: read as
// missing, org-b read it (200). Its last version is read from its history;
// a history that cannot be read withholds (502); a role that never
// existed (404) or whose last version was an ordinary hospital's passes
// nothing on; the label cache keeps what the last version stood for.
func TestProgramRoleDeletedQA41H(t *testing.T) {
	t.Parallel()
	const o1 = `{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"urine drug screen"},"performer":[{"reference":"PractitionerRole/r1"}]}`
	const deletion = `{"request":{"method":"DELETE","url":"PractitionerRole/r1"},"response":{"status":"204"}}`
	version := func(org string) string {
		return `{"resource":{"resourceType":"PractitionerRole","id":"r1","meta":{"versionId":"1"},"organization":{"reference":"` + org + `"}},"request":{"method":"POST","url":"PractitionerRole"}}`
	}
	history := func(entries ...string) string {
		return `{"resourceType":"Bundle","type":"history","entry":[` + strings.Join(entries, ",") + `]}`
	}
	gone := fhirJSONHandler(http.StatusGone, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"deleted"}]}`)
	for _, tc := range []struct {
		name     string
		read     http.HandlerFunc // PractitionerRole/r1
		history  http.HandlerFunc // PractitionerRole/r1/_history
		want     int
		withheld bool // the Observation is the program's (a second read answers so from the cache)
	}{
		{"deleted, the program's", gone, fhirJSONHandler(200, history(deletion, version("Organization/p2"))), http.StatusNotFound, true},
		{"deleted, no deletion entry", gone, fhirJSONHandler(200, history(version("Organization/p2"))), http.StatusNotFound, true},
		{"deleted, a hospital's", gone, fhirJSONHandler(200, history(deletion, version("Organization/h1"))), http.StatusOK, false},
		{"never existed", fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`), nil, http.StatusOK, false},
		{"history refused", gone, fhirJSONHandler(http.StatusForbidden, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"forbidden"}]}`), http.StatusBadGateway, false},
		{"history of deletions only", gone, fhirJSONHandler(200, `{"resourceType":"Bundle","type":"history","link":[{"relation":"next","url":"x"}],"entry":[`+deletion+`]}`), http.StatusBadGateway, false},
		{"history of another", gone, fhirJSONHandler(200, history(deletion, `{"resource":{"resourceType":"PractitionerRole","id":"r2","organization":{"reference":"Organization/h1"}}}`)), http.StatusBadGateway, false},
		{"history no Bundle", gone, fhirJSONHandler(200, `{"resourceType":"PractitionerRole","id":"r1","organization":{"reference":"Organization/h1"}}`), http.StatusBadGateway, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var histories atomic.Int64
			h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
				switch {
				case strings.HasSuffix(r.URL.Path, "/PractitionerRole/r1/_history"):
					histories.Add(1)
					if tc.history == nil || r.URL.Query().Get("_count") != "2" {
						http.Error(w, "unexpected", http.StatusTeapot)
						return
					}
					tc.history(w, r)
				case strings.HasSuffix(r.URL.Path, "/PractitionerRole/r1"):
					tc.read(w, r)
				case strings.Contains(r.URL.Path, "/Organization/"):
					// The last version's organization is read for what it
					// stands for (QA round 42, area F): none here.
					fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
				default:
					fhirJSONHandler(http.StatusOK, o1)(w, r)
				}
			}, withProgram)
			resp, body := h.get("/fhir/Observation/o1", tokOther)
			if resp.StatusCode != tc.want || tc.want != http.StatusOK && strings.Contains(body, "urine") {
				t.Fatalf("org-b: %d %s, want %d", resp.StatusCode, body, tc.want)
			}
			if tc.withheld {
				// The cache knows r1 as the program's now: no second read
				// of its history, and the record is withheld still.
				n := histories.Load()
				if resp, body := h.get("/fhir/Observation/o1", tokOther); resp.StatusCode != http.StatusNotFound {
					t.Errorf("org-b, again: %d %s, want 404", resp.StatusCode, body)
				}
				if histories.Load() != n {
					t.Errorf("the history was read again (%d times)", histories.Load())
				}
				if resp, body := h.get("/fhir/Observation/o1", tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, "42CFRPart2") {
					t.Errorf("org-a, consented: %d %s, want 200 labelled 42CFRPart2", resp.StatusCode, body)
				}
			}
			if tc.history == nil && histories.Load() != 0 {
				t.Errorf("a role that never existed: its history was read")
			}
		})
	}
}
