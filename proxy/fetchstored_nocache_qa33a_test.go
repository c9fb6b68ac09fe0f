package proxy

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestReferencedResourceReadNotReusedQA33A: a record that references the
// resource deciding its labels (a MedicationRequest's Medication) is
// labelled by the referenced resource as ds4p reads it (label targets,
// fetchStored). That read went out without Cache-Control: no-cache, which
// 209ee7f and 6dce3b0 set on the other reads behind a decision: an HTTP
// cache in front of the FHIR server (a gateway's, a CDN's) answered it with
// the Medication's older, ordinary version, and an order for Tivicay went
// to org-b as ordinary. The stored-version reads of the write guard and of
// history go the same way.
func TestReferencedResourceReadNotReusedQA33A(t *testing.T) {
	t.Parallel()
	const (
		plain   = `{"resourceType":"Medication","id":"arv","code":{"coding":[{"system":"` + qa32eRx + `","code":"904467"}]}}`
		tivicay = `{"resourceType":"Medication","id":"arv","code":{"coding":[{"system":"` + qa32eRx + `","code":"1433879"}]}}`
		order   = `{"resourceType":"MedicationRequest","id":"mr3","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"medicationReference":{"reference":"Medication/arv"}}`
	)
	var (
		mu     sync.Mutex
		cached = plain // what the cache kept of Medication/arv, before it was corrected
	)
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fhir/R4/Medication/arv":
			mu.Lock()
			body := cached
			if strings.Contains(r.Header.Get("Cache-Control"), "no-cache") {
				body = tivicay // revalidated: the current version
			}
			mu.Unlock()
			fhirJSONHandler(http.StatusOK, body)(w, r)
		case "/fhir/R4/MedicationRequest/mr3":
			fhirJSONHandler(http.StatusOK, order)(w, r)
		default:
			fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
		}
	})
	if resp, body := h.get("/fhir/MedicationRequest/mr3", tokOther); resp.StatusCode != http.StatusNotFound {
		t.Errorf("an order for a Medication now coded Tivicay, to org-b: %d %s, want 404", resp.StatusCode, body)
	}
}
