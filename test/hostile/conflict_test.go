package hostile

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestHostileUpstreamPatientConflict: the upstream answers with a resource
// whose subject and patient name different patients (p1 and p2), carrying
// a canary and PHI-like values. It is withheld on its own, as a denied
// item is: a read answers exactly as a missing resource does, and a
// search or $everything holding it among ordinary entries of p1 answers
// 200 with those entries and without it (no total that would count it),
// for a reader and for a token bound to p1, one of the patients it names.
// Nothing of it reaches the caller or ds4p's log (TestMain's check), and
// the proxy keeps serving.
func TestHostileUpstreamPatientConflict(t *testing.T) {
	s := stackFor(t)
	c := s.canary("patient-conflict")
	conflicting := `{"resourceType":"Observation","id":"mix-obs","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},` +
		`"subject":{"reference":"Patient/p1"},"patient":{"reference":"Patient/p2"},` + phi(c) + `}`
	good := func(id string) string {
		return `{"resourceType":"Observation","id":"` + id + `","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/p1"}}`
	}
	entry := func(r string) string { return `{"resource":` + r + `,"search":{"mode":"match"}}` }
	bundle := `{"resourceType":"Bundle","type":"searchset","total":3,"entry":[` +
		entry(good("ok-1")) + `,` + entry(conflicting) + `,` + entry(good("ok-2")) + `]}`
	s.up.handle("mix-obs", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, conflicting) })
	s.up.handle("mix-search", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, bundle) })
	s.up.handle("mix-p1", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/$everything") { // the instance the operation names, read first
			writeJSON(w, http.StatusOK, `{"resourceType":"Patient","id":"mix-p1"}`)
			return
		}
		writeJSON(w, http.StatusOK, bundle)
	})

	for _, caller := range []string{"reader", "patient"} {
		t.Run("read/"+caller, func(t *testing.T) {
			r := s.get(t, "/fhir/Observation/mix-obs", caller)
			s.assertNoCanary(t, r)
			assertOutcome(t, r, http.StatusNotFound)
			missing := s.get(t, "/fhir/Observation/mix-gone", caller)
			if r.Status != missing.Status || !bytes.Equal(bytes.ReplaceAll(r.Body, []byte("mix-obs"), []byte("mix-gone")), missing.Body) {
				t.Errorf("not answered as a missing resource:\n%d %s\n%d %s", r.Status, r.Body, missing.Status, missing.Body)
			}
			s.assertUp(t)
		})
		for _, path := range []string{"/fhir/Observation?identifier=mix-search", "/fhir/Patient/mix-p1/$everything"} {
			if caller == "patient" && strings.Contains(path, "$everything") {
				continue // another patient's $everything: refused before the upstream (TestHostileCallers)
			}
			t.Run("bundle"+strings.ReplaceAll(path, "/", "_")+"/"+caller, func(t *testing.T) {
				r := s.get(t, path, caller)
				s.assertNoCanary(t, r)
				if r.Status != http.StatusOK {
					t.Fatalf("status %d, want 200 (one conflicting entry withholds only itself): %s", r.Status, truncate(r.Body))
				}
				var b struct {
					ResourceType string
					Total        *int
					Entry        []struct{ Resource struct{ ID string } }
				}
				if err := json.Unmarshal(r.Body, &b); err != nil || b.ResourceType != "Bundle" {
					t.Fatalf("not a Bundle (%v): %s", err, truncate(r.Body))
				}
				var ids []string
				for _, e := range b.Entry {
					ids = append(ids, e.Resource.ID)
				}
				if strings.Join(ids, ",") != "ok-1,ok-2" {
					t.Errorf("entries %v, want ok-1,ok-2", ids)
				}
				if b.Total != nil && *b.Total != 2 {
					t.Errorf("total %d counts the withheld entry", *b.Total)
				}
				s.assertUp(t)
			})
		}
	}
}
