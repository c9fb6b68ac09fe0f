package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

func init() {
	register("ConsentPermitCoversNamedTopicsOnly", testConsentPermitCoversNamedTopicsOnly)
}

// testConsentPermitCoversNamedTopicsOnly: a patient's consent that lets a
// payer see HIV data releases the HIV result, and not the Part 2 record
// that also carries HIV (its SUD topic is not named). Before, any permit
// that applied satisfied every state-law topic, so the Part 2 record went
// to the payer with the HIV result.
func testConsentPermitCoversNamedTopicsOnly(t *testing.T, e *env) {
	const patient = "Patient/qa24-topics"
	const org = "Organization/org-qa24-payer"
	sec := func(codes ...string) string {
		var out []string
		for _, c := range codes {
			system := "http://terminology.hl7.org/CodeSystem/v3-ActCode"
			if c == "R" {
				system = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
			}
			out = append(out, `{"system":"`+system+`","code":"`+c+`"}`)
		}
		return `"meta":{"security":[` + strings.Join(out, ",") + `]},`
	}
	obs := func(id, meta string) []byte {
		return []byte(`{"resourceType":"Observation","id":"` + id + `",` + meta + `"status":"final","code":{"text":"qa24 topics"},"subject":{"reference":"` + patient + `"}}`)
	}
	e.upstream.Put(t, []byte(`{"resourceType":"Patient","id":"qa24-topics","name":[{"family":"Topics"}]}`))
	e.upstream.Put(t,
		obs("qa24-hiv", sec("HIV", "R")),
		obs("qa24-part2-hiv", sec("42CFRPart2", "SUD", "HIV", "R")),
		obs("qa24-psy", sec("PSY", "R")),
	)
	consent := `{"resourceType":"Consent","status":"active",
	  "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	  "category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
	  "patient":{"reference":"` + patient + `"},
	  "provision":{"type":"deny","provision":[{"type":"permit",
	    "actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"` + org + `"}}],
	    "purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"HPAYMT"}],
	    "securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HIV"}]}]}}`
	if err := e.postConsentBody(patient, consent); err != nil {
		t.Fatal(err)
	}
	payer := e.mintToken(t, "--sub", "claims-qa24", "--org", org, "--purpose", "HPAYMT", "--scope", "user/*.read")
	for id, want := range map[string]int{
		"qa24-hiv":       http.StatusOK,
		"qa24-part2-hiv": http.StatusNotFound,
		"qa24-psy":       http.StatusNotFound,
	} {
		if r := e.do(t, http.MethodGet, "/fhir/Observation/"+id, payer, nil); r.Status != want {
			t.Errorf("the payer read %s: %d, want %d: %s", id, r.Status, want, r.Body)
		}
	}
	r := e.do(t, http.MethodGet, "/fhir/Observation?subject="+patient, payer, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("the payer's search: %d %s", r.Status, r.Body)
	}
	if got := ids(t, r.json(t)); !slices.Equal(got, []string{"Observation/qa24-hiv"}) || !totalCountsOnlyMatches(r.json(t)) {
		t.Errorf("the payer's search: %v, want only the HIV result: %s", got, r.Body)
	}
	mustNotContain(t, "the payer's search", r, "qa24-part2-hiv")
}
