package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 32, area B: records whose only sensitive trace is a code the
// rule files missed were served as ordinary data to a payer and to org-b,
// whom the patient's consent does not permit. Now they are withheld from
// both as if absent; org-a, whom the consent permits, reads them; an
// ordinary neighbour is served to the payer.

const qa32bPayer = "Organization/org-b|HPAYMT|user/*.read"

// qa32bWithheld serves each of sensitive (path → body) and ordinary, and
// checks who reads what.
func qa32bWithheld(t *testing.T, sensitive map[string]string, ordinary string) {
	t.Helper()
	bodies := map[string]string{}
	for p, b := range sensitive {
		bodies["/fhir/R4/"+p] = b
	}
	bodies["/fhir/R4/"+ordinary[:strings.Index(ordinary, "|")]] = ordinary[strings.Index(ordinary, "|")+1:]
	h := newHarness(t, routes(bodies))
	for p := range sensitive {
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
	op := ordinary[:strings.Index(ordinary, "|")]
	if resp, body := h.get("/fhir/"+op, qa32bPayer); resp.StatusCode != http.StatusOK {
		t.Errorf("%s (ordinary) for the payer: %d %s, want it", op, resp.StatusCode, body)
	}
}

func qa32bObs(id, system, code string) string {
	return `{"resourceType":"Observation","id":"` + id + `","status":"final","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"` + system + `","code":"` + code + `"}]},"valueString":"negative"}`
}

func qa32bCond(id, system, code string) string {
	return `{"resourceType":"Condition","id":"` + id + `","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"` + system + `","code":"` + code + `"}]}}`
}

func qa32bClaimOf(id, system, code string) string {
	return `{"resourceType":"Claim","id":"` + id + `","status":"active","use":"claim","patient":{"reference":"Patient/p1"},"item":[{"sequence":1,"productOrService":{"coding":[{"system":"` + system + `","code":"` + code + `"}]}}]}`
}

// TestHIVRecordsWithheldQA32B: an HIV antibody test (LOINC 56888-1), an AIDS
// diagnosis in SNOMED CT, a claim for an HIV viral load (CPT 87536) and a
// log viral load (LOINC 29541-0).
func TestHIVRecordsWithheldQA32B(t *testing.T) {
	t.Parallel()
	qa32bWithheld(t, map[string]string{
		"Observation/o1": qa32bObs("o1", "http://loinc.org", "56888-1"),
		"Condition/c1":   qa32bCond("c1", "http://snomed.info/sct", "62479008"),
		"Claim/cl1":      qa32bClaimOf("cl1", "http://www.ama-assn.org/go/cpt", "87536"),
		"Observation/o2": qa32bObs("o2", "http://loinc.org", "29541-0"),
	}, "Observation/o9|"+qa32bObs("o9", "http://loinc.org", "5196-1"))
}

// TestSTDRecordsWithheldQA32B: a chlamydia test (LOINC 21613-5), syphilis
// in pregnancy (ICD-10-CM O98.111) and a claim for a gonorrhea NAA (CPT
// 87591).
func TestSTDRecordsWithheldQA32B(t *testing.T) {
	t.Parallel()
	qa32bWithheld(t, map[string]string{
		"Observation/o1": qa32bObs("o1", "http://loinc.org", "21613-5"),
		"Condition/c1":   qa32bCond("c1", "http://hl7.org/fhir/sid/icd-10-cm", "O98.111"),
		"Claim/cl1":      qa32bClaimOf("cl1", "http://www.ama-assn.org/go/cpt", "87591"),
	}, "Observation/o9|"+qa32bObs("o9", "http://loinc.org", "6557-3"))
}

// TestSEXRecordsWithheldQA32B: a claim for an induced abortion (CPT 59840,
// in SHIFT's SEX and abortion value sets but not in the rule file), a
// medication abortion (HCPCS S0199) and contraceptive management
// (ICD-10-CM Z30.011); a claim for a delivery stays ordinary.
func TestSEXRecordsWithheldQA32B(t *testing.T) {
	t.Parallel()
	qa32bWithheld(t, map[string]string{
		"Claim/cl1":    qa32bClaimOf("cl1", "http://www.ama-assn.org/go/cpt", "59840"),
		"Condition/c2": qa32bCond("c2", "http://hl7.org/fhir/sid/icd-10-cm", "Z30.011"),
		"Claim/cl2":    qa32bClaimOf("cl2", "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", "S0199"),
	}, "Claim/cl9|"+qa32bClaimOf("cl9", "http://www.ama-assn.org/go/cpt", "59400"))
}

// TestSDVRecordsWithheldQA32B: an encounter diagnosis of examination after
// alleged rape (ICD-10-CM Z04.41) and an old ICD-9-CM adult sexual abuse
// diagnosis (995.83).
func TestSDVRecordsWithheldQA32B(t *testing.T) {
	t.Parallel()
	qa32bWithheld(t, map[string]string{
		"Condition/c1": qa32bCond("c1", "http://hl7.org/fhir/sid/icd-10-cm", "Z04.41"),
		"Condition/c2": qa32bCond("c2", "http://hl7.org/fhir/sid/icd-9-cm", "995.83"),
	}, "Condition/c9|"+qa32bCond("c9", "http://hl7.org/fhir/sid/icd-10-cm", "Z04.1"))
}

// TestGDISRecordsWithheldQA32B: a claim for BRCA1/2 sequencing (CPT 81162)
// a BRCA susceptibility diagnosis (ICD-10-CM Z15.01) and a genetic
// analysis master panel (LOINC 55233-1, as FHIR R4's genetics examples).
func TestGDISRecordsWithheldQA32B(t *testing.T) {
	t.Parallel()
	qa32bWithheld(t, map[string]string{
		"Claim/cl1":      qa32bClaimOf("cl1", "http://www.ama-assn.org/go/cpt", "81162"),
		"Condition/c1":   qa32bCond("c1", "http://hl7.org/fhir/sid/icd-10-cm", "Z15.01"),
		"Observation/o1": qa32bObs("o1", "http://loinc.org", "55233-1"),
	}, "Claim/cl9|"+qa32bClaimOf("cl9", "http://www.ama-assn.org/go/cpt", "81001"))
}

func qa32bDoc(id, label string) string {
	sl := ""
	if label != "" {
		sl = `"securityLabel":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"` + label + `"}]}],`
	}
	return `{"resourceType":"DocumentReference","id":"` + id + `","status":"current","subject":{"reference":"Patient/p1"},` + sl + `"content":[{"attachment":{"contentType":"text/plain","data":"bm90ZQ=="}}]}`
}

// TestDocumentSecurityLabelWithheldQA32B: a DocumentReference whose
// securityLabel says the document is HIV information, or a psychotherapy
// note, was served, inline note and all, to a payer and to org-b. Now both
// are withheld from them (a psychotherapy note needs its own consent, so
// org-a is not asked about); an unlabelled document is served.
func TestDocumentSecurityLabelWithheldQA32B(t *testing.T) {
	t.Parallel()
	qa32bWithheld(t, map[string]string{
		"DocumentReference/d1": qa32bDoc("d1", "HIV"),
		"DocumentReference/d3": qa32bDoc("d3", "SUD"), // no rule file's topic: the labeller reads securityLabel
	}, "DocumentReference/d9|"+qa32bDoc("d9", ""))
	h := newHarness(t, routes(map[string]string{"/fhir/R4/DocumentReference/d2": qa32bDoc("d2", "PSYTHPN")}))
	for _, tok := range []string{qa32bPayer, tokOther} {
		if resp, body := h.get("/fhir/DocumentReference/d2", tok); resp.StatusCode != http.StatusNotFound {
			t.Errorf("psychotherapy note for %s: %d %s, want 404", tok, resp.StatusCode, body)
		}
	}
}

// TestProviderTaxonomyWithheldQA32B: a claim of a family planning facility
// and one of a clinical geneticist (NUCC careTeam.qualification).
func TestProviderTaxonomyWithheldQA32B(t *testing.T) {
	t.Parallel()
	claim := func(id, code string) string {
		return `{"resourceType":"Claim","id":"` + id + `","status":"active","use":"claim","patient":{"reference":"Patient/p1"},"careTeam":[{"sequence":1,"provider":{"reference":"Organization/o1"},"qualification":{"coding":[{"system":"http://nucc.org/provider-taxonomy","code":"` + code + `"}]}}],"item":[{"sequence":1,"careTeamSequence":[1],"productOrService":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"99213"}]}}]}`
	}
	qa32bWithheld(t, map[string]string{
		"Claim/cl1": claim("cl1", "261QA0005X"),
		"Claim/cl2": claim("cl2", "207SG0201X"),
	}, "Claim/cl9|"+claim("cl9", "207V00000X"))
}
