package proxy

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// searchingFHIR makes u's upstream answer Consent searches as a FHIR
// server does: patient=<reference> matches a consent whose patient is that
// reference, patient:identifier=<system>|<value> one whose patient is
// named by that identifier; a search naming neither (a sync round) lists
// every consent.
func searchingFHIR(u *upstreamSetup) {
	inner := u.upstream.Config.Handler
	u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		ref, ident := q.Get("patient"), q.Get("patient:identifier")
		if r.URL.Path == "/fhir/R4/Patient/p1" {
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:mrn","value":"123"}]}`)(w, r)
			return
		}
		if r.URL.Path != "/fhir/R4/Consent" || ref == "" && ident == "" {
			inner.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		inner.ServeHTTP(rec, r)
		var b map[string]any
		if json.Unmarshal(rec.Body.Bytes(), &b) != nil {
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		var kept []any
		for _, e := range asList(b["entry"]) {
			res, _ := e.(map[string]any)["resource"].(map[string]any)
			p, _ := res["patient"].(map[string]any)
			id, _ := p["identifier"].(map[string]any)
			sys, _ := id["system"].(string)
			val, _ := id["value"].(string)
			if ref != "" && p["reference"] == ref || ident != "" && sys+"|"+val == ident {
				kept = append(kept, e)
			}
		}
		b["entry"] = kept
		out, _ := json.Marshal(b)
		fhirJSONHandler(http.StatusOK, string(out))(w, r)
	})
}

func asList(v any) []any { l, _ := v.([]any); return l }

// mrnOptOut is an upstream opt-out naming Patient/p1 by its MRN alone
// (urn:mrn|123, as searchingFHIR's Patient/p1 has it).
const mrnOptOut = `{"resourceType":"Consent","id":"u2","meta":{"versionId":"1","lastUpdated":"2026-02-01T00:00:00Z"},"status":"active",
  "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
  "patient":{"identifier":{"system":"urn:mrn","value":"123"}},
  "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]}}`

// QA round 30 (area F), on ea14dc7: a consent naming its patient by an
// identifier of consents.patient_identifier_system alone counts for that
// patient in sync mode since ea14dc7, but the patient's consents read on
// demand (on_demand mode, and sync mode while a consent write is under
// way) are searched by Consent?patient=Patient/<id> only, which such a
// consent does not match on a FHIR server: the opt-out the EHR wrote with
// the patient's MRN was not read, and org-a read the SUD condition under
// the patient's permit.
func TestOnDemandConsentNamingItsPatientByIdentifierQA30F(t *testing.T) {
	t.Parallel()
	permit := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour, PatientIdentifierSystem: "urn:mrn"})
	searchingFHIR(u)
	u.fhir.set(200, permit)
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("under the permit alone: %d, want 200", code)
	}
	u = newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour, PatientIdentifierSystem: "urn:mrn"})
	searchingFHIR(u)
	u.fhir.set(200, permit, mrnOptOut)
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Errorf("beside an opt-out naming the patient by MRN: %d, want 404", code)
	}
}
