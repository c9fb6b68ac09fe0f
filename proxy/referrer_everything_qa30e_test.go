package proxy

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/consent"
)

// TestReferredDrugOfAWithheldOrderQA30E: a buprenorphine Medication (SUD
// by its RxNorm code, naming no patient) takes the patients of the records
// of the response naming it (7418108). In Patient/p1/$everything, whose
// entries are matches (no _include, so no orphan check), p1's order of the
// drug is withheld from org-a by p1's consent (a permit for org-a with a
// nested deny of that one order), and no other record names the drug. The
// drug must go with its order: alone, it tells that p1 has a withheld
// buprenorphine order. Before 7418108 the drug was withheld (no patient);
// since, it was decided under p1's permit and disclosed.
func TestReferredDrugOfAWithheldOrderQA30E(t *testing.T) {
	t.Parallel()
	const (
		bup = `{"resourceType":"Medication","id":"bup","code":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"1819"}]}}`
		mr1 = `{"resourceType":"MedicationRequest","id":"mr1","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"medicationReference":{"reference":"Medication/bup"}}`
		obs = `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"weight"},"subject":{"reference":"Patient/p1"}}`
		raw = `{"resourceType":"Consent","id":"c1","meta":{"versionId":"1"},"status":"active",
	"scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
	"patient":{"reference":"Patient/p1"},
	"provision":{"type":"deny","provision":[{"type":"permit",
	"actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/org-a"}}],
	"purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}],
	"provision":[{"type":"deny","data":[{"meaning":"instance","reference":{"reference":"MedicationRequest/mr1"}}]}]}]}}`
	)
	rec := consent.Record{ID: "c1", Version: 1, Patient: "Patient/p1", Status: "active", Updated: time.Now(), JSON: []byte(raw)}
	handler := func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/$everything"):
			fhirJSONHandler(200, bundle(h0base(r), -1, false, obs, mr1, bup))(w, r)
		case strings.HasSuffix(r.URL.Path, "/Patient/p1"):
			fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1"}`)(w, r)
		default:
			fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
		}
	}
	h := newHarness(t, handler, func(_ *Options, d *Deps) {
		d.Consents = &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {rec}}}
	})
	resp, body := h.get("/fhir/Patient/p1/$everything", tokConsented)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"o1"`) || strings.Contains(body, `"id":"mr1"`) {
		t.Fatalf("org-a: want the observation without the denied order: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, `"id":"bup"`) {
		t.Errorf("org-a got the buprenorphine of p1's withheld order, alone: %s", body)
	}
}
