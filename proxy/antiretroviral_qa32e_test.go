package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 32, area E: an antiretroviral order, dispense or statement
// (Tivicay, Prezista, Truvada ...) was served as ordinary to a payer and to
// org-b, whom the patient's consent does not permit: the drug alone tells
// that the patient has HIV. Now each is withheld from both as if absent,
// whether the drug is coded in the record, contained in it, or a Medication
// it references; org-a, whom the consent permits, reads them; Paxlovid's
// ritonavir tablet and a statin stay ordinary.

const qa32eRx = "http://www.nlm.nih.gov/research/umls/rxnorm"

func qa32eMed(typ, id, code string) string {
	status := `"status":"active"`
	if typ == "MedicationRequest" {
		status += `,"intent":"order"`
	}
	if typ == "MedicationDispense" {
		status = `"status":"completed"`
	}
	return `{"resourceType":"` + typ + `","id":"` + id + `",` + status + `,"subject":{"reference":"Patient/p1"},"medicationCodeableConcept":{"coding":[{"system":"` + qa32eRx + `","code":"` + code + `"}]}}`
}

func TestAntiretroviralsWithheldQA32E(t *testing.T) {
	t.Parallel()
	const (
		tivicay = `{"resourceType":"Medication","id":"arv","code":{"coding":[{"system":"` + qa32eRx + `","code":"1433879"}]}}`
		byRef   = `{"resourceType":"MedicationRequest","id":"mr3","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"medicationReference":{"reference":"Medication/arv"}}`
		inside  = `{"resourceType":"MedicationRequest","id":"mr4","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"contained":[{"resourceType":"Medication","id":"m","code":{"coding":[{"system":"` + qa32eRx + `","code":"1999673"}]}}],"medicationReference":{"reference":"#m"}}`
	)
	records := map[string]string{
		"MedicationRequest/mr1":   qa32eMed("MedicationRequest", "mr1", "1359269"),   // darunavir 800 MG
		"MedicationDispense/md1":  qa32eMed("MedicationDispense", "md1", "476556"),   // Truvada
		"MedicationStatement/ms1": qa32eMed("MedicationStatement", "ms1", "1433873"), // dolutegravir 50 MG
		"MedicationRequest/mr3":   byRef,                                             // Tivicay, referenced
		"MedicationRequest/mr4":   inside,                                            // Biktarvy, contained
	}
	ordinary := map[string]string{
		"MedicationRequest/mr8": qa32eMed("MedicationRequest", "mr8", "904467"), // pravastatin
		"MedicationRequest/mr9": qa32eMed("MedicationRequest", "mr9", "900575"), // Paxlovid's ritonavir
		"MedicationRequest/mr7": qa32eMed("MedicationRequest", "mr7", "349251"), // tenofovir disoproxil alone
	}
	bodies := map[string]string{"/fhir/R4/Medication/arv": tivicay}
	for p, b := range records {
		bodies["/fhir/R4/"+p] = b
	}
	for p, b := range ordinary {
		bodies["/fhir/R4/"+p] = b
	}
	h := newHarness(t, routes(bodies))
	for p := range records {
		id := p[strings.Index(p, "/")+1:]
		for _, tok := range []string{qa32bPayer, tokOther} {
			if resp, body := h.get("/fhir/"+p, tok); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s for %s: %d %s, want 404", p, tok, resp.StatusCode, body)
			}
		}
		if resp, body := h.get("/fhir/"+p, tokConsented); resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"`+id+`"`) {
			t.Errorf("%s for org-a: %d %s, want it", p, resp.StatusCode, body)
		}
	}
	for p := range ordinary {
		for _, tok := range []string{qa32bPayer, tokOther} {
			if resp, body := h.get("/fhir/"+p, tok); resp.StatusCode != http.StatusOK {
				t.Errorf("%s (ordinary) for %s: %d %s, want it", p, tok, resp.StatusCode, body)
			}
		}
	}
	// The drug read alone names no patient: the payer does not get it.
	if resp, body := h.get("/fhir/Medication/arv", qa32bPayer); resp.StatusCode != http.StatusNotFound {
		t.Errorf("Medication/arv for the payer: %d %s, want 404", resp.StatusCode, body)
	}
}

// TestAntiretroviralSearchQA32E: a search for the patient's orders with
// their drugs included; the payer and org-b get the statin, never the
// antiretroviral order nor its drug; org-a gets all three.
func TestAntiretroviralSearchQA32E(t *testing.T) {
	t.Parallel()
	const (
		arv    = `{"resourceType":"Medication","id":"arv","code":{"coding":[{"system":"` + qa32eRx + `","code":"1433879"}]}}`
		mrARV  = `{"resourceType":"MedicationRequest","id":"mr1","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"medicationReference":{"reference":"Medication/arv"}}`
		statin = `{"resourceType":"MedicationRequest","id":"mr2","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"medicationCodeableConcept":{"coding":[{"system":"` + qa32eRx + `","code":"904467"}]}}`
	)
	handler := func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/MedicationRequest"):
			b := bundle(h0base(r), -1, false, mrARV, statin)
			b = b[:len(b)-2] + `,{"resource":` + arv + `,"search":{"mode":"include"}}]}`
			fhirJSONHandler(200, b)(w, r)
		case strings.HasSuffix(r.URL.Path, "/Medication/arv"):
			fhirJSONHandler(200, arv)(w, r)
		default:
			fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
		}
	}
	h := newHarness(t, handler)
	const q = "/fhir/MedicationRequest?patient=p1&_include=MedicationRequest:medication"
	for _, tok := range []string{qa32bPayer, tokOther} {
		resp, body := h.get(q, tok)
		if resp.StatusCode != http.StatusOK || strings.Contains(body, `"id":"mr1"`) || strings.Contains(body, `"id":"arv"`) || strings.Contains(body, "1433879") || !strings.Contains(body, `"id":"mr2"`) {
			t.Errorf("%s: %d %s; want the statin only", tok, resp.StatusCode, body)
		}
	}
	resp, body := h.get(q, tokConsented)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"mr1"`) || !strings.Contains(body, `"id":"arv"`) || !strings.Contains(body, `"id":"mr2"`) {
		t.Errorf("org-a: %d %s; want all", resp.StatusCode, body)
	}
}

// TestAntiretroviralBillingWithheldQA32E: a claim for oral PrEP (HCPCS
// J0751), an explanation of benefit for PrEP counselling (G0011) and a
// claim for Cabenuva (J0741) are withheld from the payer and org-b, read
// by org-a; a claim for ceftriaxone is served.
func TestAntiretroviralBillingWithheldQA32E(t *testing.T) {
	t.Parallel()
	const hcpcs = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
	eob := `{"resourceType":"ExplanationOfBenefit","id":"e1","status":"active","use":"claim","patient":{"reference":"Patient/p1"},"item":[{"sequence":1,"productOrService":{"coding":[{"system":"` + hcpcs + `","code":"G0011"}]}}]}`
	qa32bWithheld(t, map[string]string{
		"Claim/cl1":               qa32bClaimOf("cl1", hcpcs, "J0751"),
		"Claim/cl2":               qa32bClaimOf("cl2", hcpcs, "J0741"),
		"ExplanationOfBenefit/e1": eob,
	}, "Claim/cl9|"+qa32bClaimOf("cl9", hcpcs, "J0696"))
}

// TestAntiretroviralClassWithheldQA32E: a medication statement naming the
// SNOMED CT class "medicinal product acting as antiretroviral agent" is
// withheld from the payer and org-b; one of aspirin is served.
func TestAntiretroviralClassWithheldQA32E(t *testing.T) {
	t.Parallel()
	ms := func(id, code string) string {
		return `{"resourceType":"MedicationStatement","id":"` + id + `","status":"active","subject":{"reference":"Patient/p1"},"medicationCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"` + code + `"}]}}`
	}
	qa32bWithheld(t, map[string]string{"MedicationStatement/ms1": ms("ms1", "788075003")},
		"MedicationStatement/ms9|"+ms("ms9", "387458008"))
}
