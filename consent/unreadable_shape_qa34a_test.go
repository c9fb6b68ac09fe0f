package consent

import (
	"slices"
	"testing"
)

// QA round 34, area A: an upstream consent that fails validation is read
// as a denying stand-in (Unreadable) for its patient, with its policies.
// Its patient (or R5 subject) written as an array of References or as a
// reference string, its policyRule as an array, its regulatoryBasis or a
// coding as one object (invalid FHIR JSON, but a server may store it, and
// other readers take one object as an array's one element) was read as
// nothing: without a patient the stand-in was dropped in sync mode, and
// without its OPTOUT it governed restricted data only, so the patient's
// opt-out withheld nothing. A withdrawn consent's patient is read alike.
func TestUnreadableShapesQA34A(t *testing.T) {
	t.Parallel()
	const optOut = `{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]}`
	consent := func(members string) []byte {
		return []byte(`{"resourceType":"Consent","id":"u1","status":"active",` + members + `,"provision":{"type":"deny"}}`)
	}
	for _, c := range []struct {
		name, members string
		patient       string
		optOut        bool
	}{
		{"patient an array of one", `"patient":[{"reference":"Patient/p1"}]`, "Patient/p1", false},
		{"patient a string", `"patient":"Patient/p1"`, "Patient/p1", false},
		{"R5 subject an array of one", `"subject":[{"reference":"Patient/p1"}]`, "Patient/p1", false},
		{"policyRule an array of one", `"patient":{"reference":"Patient/p1"},"policyRule":[` + optOut + `]`, "Patient/p1", true},
		{"policyRule's coding one object", `"patient":{"reference":"Patient/p1"},"policyRule":{"coding":{"code":"OPTOUT"}}`, "Patient/p1", true},
		{"R5 regulatoryBasis one object", `"subject":{"reference":"Patient/p1"},"regulatoryBasis":` + optOut, "Patient/p1", true},
		{"as FHIR writes them", `"patient":{"reference":"Patient/p1"},"policyRule":` + optOut + `,"scope":[]`, "Patient/p1", true},
	} {
		n, ok := Unreadable(consent(c.members))
		if !ok || n.Patient != c.patient || slices.Contains(n.Policies, "OPTOUT") != c.optOut {
			t.Errorf("%s: %v, patient %q, policies %v; want %q, OPTOUT %v", c.name, ok, n.Patient, n.Policies, c.patient, c.optOut)
		}
		if len(n.Rules) != 1 || n.Rules[0].Type != "deny" {
			t.Errorf("%s: rules %+v; want one deny", c.name, n.Rules)
		}
	}
	// A consent withdrawn (inactive) is read for its patient alike: it
	// stands for the revoked copy of a local consent (Withdrawn).
	for name, members := range map[string]string{
		"patient an array of one":    `"patient":[{"reference":"Patient/p1"}]`,
		"patient a string":           `"patient":"Patient/p1"`,
		"R5 subject an array of one": `"subject":[{"reference":"Patient/p1"}]`,
	} {
		raw := []byte(`{"resourceType":"Consent","id":"u1","status":"inactive",` + members + `}`)
		if n, ok := Withdrawn(raw); !ok || n.Patient != "Patient/p1" {
			t.Errorf("withdrawn, %s: %v, patient %q; want Patient/p1", name, ok, n.Patient)
		}
	}
}

// QA round 34, area A: an upstream consent naming its patient by
// identifier alone in an array of one Reference is matched by that
// identifier, and given the patient's reference, as one written as an
// object; its stand-in then names the patient (Unreadable).
func TestPatientIdentifierArrayOfOneQA34A(t *testing.T) {
	t.Parallel()
	raw := []byte(`{"resourceType":"Consent","id":"u1","status":"active","patient":[{"identifier":{"system":"urn:mrn","value":"123"}}],"provision":{"type":"deny"}}`)
	system, value, ok := PatientIdentifier(raw)
	if !ok || system != "urn:mrn" || value != "123" {
		t.Fatalf("PatientIdentifier: %q %q %v", system, value, ok)
	}
	if s, v, ok := PatientIdentifierBeside(raw); !ok || s != "urn:mrn" || v != "123" {
		t.Errorf("PatientIdentifierBeside: %q %q %v", s, v, ok)
	}
	filled, err := WithPatientReference(raw, "Patient/p1")
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := Unreadable(filled); !ok || n.Patient != "Patient/p1" {
		t.Errorf("stand-in of %s: %v, patient %q", filled, ok, n.Patient)
	}
}
