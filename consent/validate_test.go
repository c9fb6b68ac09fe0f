package consent

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestPutValidation checks each rule: a good consent is stored, and every bad
// one is rejected with a problem at the expected path and leaves the store
// as it was.
func TestPutValidation(t *testing.T) {
	t.Parallel()
	permitChild := `"type": "permit",
      "actor"`
	tests := []struct {
		name  string
		raw   string
		paths []string // expected problem paths; none means accepted
	}{
		{name: "good TPO consent", raw: tpoConsent},
		{name: "missing scope accepted", raw: edit(t, tpoConsent,
			`"scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},`, ``)},
		{name: "neither policy nor policyRule accepted (ppc-1 not enforced)", raw: edit(t, tpoConsent,
			`"policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "42CFRPart2"}]},`, ``)},
		{name: "nested provision without type accepted", raw: edit(t, tpoConsent, `"type": "permit",`, ``)},
		{name: "legacy primitive extension accepted", raw: edit(t, tpoConsent, `"status": "active",`,
			`"status": "active", "_status": {"extension": [{"url": "http://example.org/x", "valueString": "y"}]},`)},
		{name: "missing patient", raw: edit(t, tpoConsent, `"patient": {"reference": "Patient/p1"},`, ``),
			paths: []string{"Consent.patient.reference"}},
		{name: "patient not a Patient", raw: edit(t, tpoConsent, `"Patient/p1"`, `"Group/g1"`),
			paths: []string{"Consent.patient.reference"}},
		{name: "bad status", raw: edit(t, tpoConsent, `"status": "active"`, `"status": "activ"`),
			paths: []string{"Consent.status"}},
		{name: "missing status", raw: edit(t, tpoConsent, `"status": "active",`, ``),
			paths: []string{"Consent.status"}},
		{name: "status of the wrong JSON type", raw: edit(t, tpoConsent, `"status": "active"`, `"status": 5`),
			paths: []string{"Consent.status"}},
		{name: "actors misspelling", raw: edit(t, tpoConsent, permitChild, `"type": "permit",
      "actors"`), paths: []string{"Consent.provision.provision[0].actors"}},
		{name: "misspelt provision at top level", raw: edit(t, tpoConsent, `"provision": {`, `"provisions": {`),
			paths: []string{"Consent.provisions"}},
		{name: "period starts after it ends", raw: edit(t, tpoConsent, `"end": "2026-12-31"`, `"end": "2026-02-15"`),
			paths: []string{"Consent.provision.period"}},
		{name: "period date malformed", raw: edit(t, tpoConsent, `"start": "2026-02-16"`, `"start": "2026-2-16"`),
			paths: []string{"Consent.provision.period.start"}},
		{name: "dateTime without zone", raw: edit(t, tpoConsent, `"start": "2026-02-16"`, `"start": "2026-02-16T10:00:00"`),
			paths: []string{"Consent.provision.period.start"}},
		{name: "not JSON", raw: `{"resourceType": "Consent",`, paths: []string{"Consent"}},
		{name: "JSON array", raw: `[` + tpoConsent + `]`, paths: []string{"Consent"}},
		{name: "wrong resourceType", raw: edit(t, tpoConsent, `"resourceType": "Consent"`, `"resourceType": "Patient"`),
			paths: []string{"Consent.resourceType"}},
		{name: "too large", raw: edit(t, tpoConsent, `"dateTime"`, `"language": "`+strings.Repeat("x", DefaultMaxSize)+`", "dateTime"`),
			paths: []string{"Consent"}},
		{name: "duplicate key", raw: edit(t, tpoConsent, `"type": "deny",`, `"type": "deny", "type": "permit",`),
			paths: []string{"Consent.provision.type"}},
		{name: "root without type accepted (R4)", raw: edit(t, tpoConsent, `"type": "deny",`, ``)},
		{name: "root type not permit or deny", raw: edit(t, tpoConsent, `"type": "deny",`, `"type": "refuse",`),
			paths: []string{"Consent.provision.type"}},
		{name: "type not permit or deny", raw: edit(t, tpoConsent, `"type": "permit"`, `"type": "allow"`),
			paths: []string{"Consent.provision.provision[0].type"}},
		{name: "modifierExtension in provision", raw: edit(t, tpoConsent, `"type": "deny",`,
			`"type": "deny", "modifierExtension": [{"url": "http://example.org/m", "valueBoolean": true}],`),
			paths: []string{"Consent.provision.modifierExtension"}},
		{name: "modifierExtension on the resource", raw: edit(t, tpoConsent, `"status": "active",`,
			`"status": "active", "modifierExtension": [{"url": "http://example.org/m", "valueBoolean": true}],`),
			paths: []string{"Consent.modifierExtension"}},
		{name: "implicitRules", raw: edit(t, tpoConsent, `"status": "active",`, `"status": "active", "implicitRules": "http://example.org/r",`),
			paths: []string{"Consent.implicitRules"}},
		{name: "actor without reference", raw: edit(t, tpoConsent, `"reference": {"reference": "Organization/x"}`, `"reference": {"display": "X"}`),
			paths: []string{"Consent.provision.provision[0].actor[0].reference"}},
		{name: "contained actor", raw: edit(t, tpoConsent, `"Organization/x"`, `"#org"`),
			paths: []string{"Consent.provision.provision[0].actor[0].reference.reference"}},
		{name: "purpose without code", raw: edit(t, tpoConsent, `"code": "HPAYMT"`, `"display": "payment"`),
			paths: []string{"Consent.provision.provision[0].purpose[1].code"}},
		{name: "text-only code", raw: edit(t, tpoConsent, permitChild, `"type": "permit", "code": [{"text": "alcohol"}],
      "actor"`), paths: []string{"Consent.provision.provision[0].code[0]"}},
		{name: "data meaning related accepted", raw: edit(t, tpoConsent, permitChild,
			`"type": "permit", "data": [{"meaning": "related", "reference": {"reference": "Condition/c1"}}],
      "actor"`)},
		{name: "data reference as an absolute URL accepted", raw: edit(t, tpoConsent, permitChild,
			`"type": "permit", "data": [{"meaning": "instance", "reference": {"reference": "https://ehr.example/fhir/Condition/c1"}}],
      "actor"`)},
		{name: "data reference to a version accepted", raw: edit(t, tpoConsent, permitChild,
			`"type": "permit", "data": [{"meaning": "instance", "reference": {"reference": "Condition/c1/_history/2"}}],
      "actor"`)},
		{name: "data reference as a urn:uuid", raw: edit(t, tpoConsent, permitChild,
			`"type": "permit", "data": [{"meaning": "instance", "reference": {"reference": "urn:uuid:9d3c6a4e-2b0f-4a44-9d61-0a8f1c2e7b11"}}],
      "actor"`), paths: []string{"Consent.provision.provision[0].data[0].reference.reference"}},
		{name: "data reference conditional", raw: edit(t, tpoConsent, permitChild,
			`"type": "permit", "data": [{"meaning": "instance", "reference": {"reference": "Condition?code=5602001"}}],
      "actor"`), paths: []string{"Consent.provision.provision[0].data[0].reference.reference"}},
		{name: "data reference to a misspelt type", raw: edit(t, tpoConsent, permitChild,
			`"type": "permit", "data": [{"meaning": "instance", "reference": {"reference": "Conditon/c1"}}],
      "actor"`), paths: []string{"Consent.provision.provision[0].data[0].reference.reference"}},
		{name: "data reference with a base that is not a URL", raw: edit(t, tpoConsent, permitChild,
			`"type": "permit", "data": [{"meaning": "instance", "reference": {"reference": "fhir/Condition/c1"}}],
      "actor"`), paths: []string{"Consent.provision.provision[0].data[0].reference.reference"}},
		{name: "data reference to a type only", raw: edit(t, tpoConsent, permitChild,
			`"type": "permit", "data": [{"meaning": "instance", "reference": {"reference": "Condition"}}],
      "actor"`), paths: []string{"Consent.provision.provision[0].data[0].reference.reference"}},
		{name: "data meaning unknown", raw: edit(t, tpoConsent, permitChild,
			`"type": "permit", "data": [{"meaning": "everything", "reference": {"reference": "Condition/c1"}}],
      "actor"`), paths: []string{"Consent.provision.provision[0].data[0].meaning"}},
		{name: "data meaning missing", raw: edit(t, tpoConsent, permitChild,
			`"type": "permit", "data": [{"reference": {"reference": "Condition/c1"}}],
      "actor"`), paths: []string{"Consent.provision.provision[0].data[0].meaning"}},
		{name: "purpose from another system", raw: edit(t, tpoConsent,
			`{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HPAYMT"}`,
			`{"system": "urn:oid:2.16.840.1.113883.3.7204.1.5.2.1", "code": "T-PYMNT"}`),
			paths: []string{"Consent.provision.provision[0].purpose[1].system"}},
		{name: "purpose without system", raw: edit(t, tpoConsent,
			`{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HPAYMT"}`, `{"code": "HPAYMT"}`),
			paths: []string{"Consent.provision.provision[0].purpose[1].system"}},
		{name: "purpose with legacy system accepted", raw: edit(t, tpoConsent,
			`{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HPAYMT"}`,
			`{"system": "http://hl7.org/fhir/v3/ActReason", "code": "HPAYMT"}`)},
		{name: "label from another system", raw: edit(t, tpoConsent, permitChild,
			`"type": "permit", "securityLabel": [{"system": "http://example.org/local-labels", "code": "SUD"}],
      "actor"`), paths: []string{"Consent.provision.provision[0].securityLabel[0].system"}},
		{name: "label without system", raw: edit(t, tpoConsent, permitChild,
			`"type": "permit", "securityLabel": [{"code": "SUD"}],
      "actor"`), paths: []string{"Consent.provision.provision[0].securityLabel[0]"}},
		{name: "label code not in the vocabulary (MHX)", raw: edit(t, tpoConsent, permitChild,
			`"type": "permit", "securityLabel": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "MHX"}],
      "actor"`), paths: []string{"Consent.provision.provision[0].securityLabel"}},
		{name: "label code in the wrong case", raw: edit(t, tpoConsent, permitChild,
			`"type": "permit", "securityLabel": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "sud"}],
      "actor"`), paths: []string{"Consent.provision.provision[0].securityLabel"}},
		{name: "confidentiality code not U L M N R V", raw: edit(t, tpoConsent, permitChild,
			`"type": "permit", "securityLabel": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "X"}],
      "actor"`), paths: []string{"Consent.provision.provision[0].securityLabel"}},
		{name: "known labels of each system accepted", raw: edit(t, tpoConsent, permitChild,
			`"type": "permit", "securityLabel": [
        {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "PSYTHPN"},
        {"system": "http://hl7.org/fhir/v3/ActCode", "code": "42CFRPart2"},
        {"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "V"},
        {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HRESCH"},
        {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "REDACTED"}],
      "actor"`)},
		{name: "purpose not in the vocabulary", raw: edit(t, tpoConsent, `"code": "HPAYMT"`, `"code": "HPAYMNT"`),
			paths: []string{"Consent.provision.provision[0].purpose"}},
		{name: "policyRule code not in the vocabulary", raw: edit(t, tpoConsent, `"code": "42CFRPart2"}]}`, `"code": "OPTOUTT"}]}`),
			paths: []string{"Consent.policyRule.coding[0].code"}},
		{name: "policyRule code of another system accepted", raw: edit(t, tpoConsent, `"code": "42CFRPart2"}]}`,
			`"code": "42CFRPart2"}, {"system": "http://example.org/state-forms", "code": "NY-OMH-11"}]}`)},
		{name: "misspelt class", raw: edit(t, tpoConsent, permitChild,
			`"type": "permit", "class": [{"system": "http://hl7.org/fhir/resource-types", "code": "Conditon"}],
      "actor"`), paths: []string{"Consent.provision.provision[0].class[0].code"}},
		{name: "class from another system", raw: edit(t, tpoConsent, permitChild,
			`"type": "permit", "class": [{"system": "http://loinc.org", "code": "Condition"}],
      "actor"`), paths: []string{"Consent.provision.provision[0].class[0].system"}},
		{name: "class as MIME type accepted", raw: edit(t, tpoConsent, permitChild,
			`"type": "permit", "class": [{"system": "urn:ietf:bcp:13", "code": "application/hl7-cda+xml"}],
      "actor"`)},
		{name: "class without system accepted when a resource type", raw: edit(t, tpoConsent, permitChild,
			`"type": "permit", "class": [{"code": "Observation"}],
      "actor"`)},
		{name: "action from another system", raw: edit(t, tpoConsent, permitChild,
			`"type": "permit", "action": [{"coding": [{"system": "http://example.org/a", "code": "access"}]}],
      "actor"`), paths: []string{"Consent.provision.provision[0].action[0].coding[0].system"}},
		{name: "action not in the value set", raw: edit(t, tpoConsent, permitChild,
			`"type": "permit", "action": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentaction", "code": "read"}]}],
      "actor"`), paths: []string{"Consent.provision.provision[0].action[0].coding[0].code"}},
		{name: "research scope", raw: edit(t, tpoConsent, `"code": "patient-privacy"`, `"code": "research"`),
			paths: []string{"Consent.scope"}},
		{name: "provisions nested too deep", raw: edit(t, tpoConsent, `"type": "permit",`,
			`"type": "permit", "provision": [`+strings.Repeat(`{"provision": [`, maxDepth)+`{}`+strings.Repeat(`]}`, maxDepth)+`],`),
			paths: []string{"Consent.provision" + strings.Repeat(".provision[0]", maxDepth)}},
		{name: "JSON nested too deep", raw: edit(t, tpoConsent, `"status": "active",`,
			`"status": "active", "extension": `+strings.Repeat(`[`, maxJSONDepth)+strings.Repeat(`]`, maxJSONDepth)+`,`),
			paths: []string{"Consent"}},
		{name: "bad id", raw: consentOf(t, "Patient/p1", "has space"), paths: []string{"Consent.id"}},
		{name: "every problem listed", raw: edit(t, edit(t, edit(t, tpoConsent,
			`"status": "active"`, `"status": "activ"`),
			permitChild, `"type": "permit", "actors"`),
			`"end": "2026-12-31"`, `"end": "2025-01-01"`),
			paths: []string{"Consent.status", "Consent.provision.provision[0].actors", "Consent.provision.period"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			_, err := s.Put(context.Background(), []byte(tt.raw))
			if len(tt.paths) == 0 {
				if err != nil {
					t.Fatalf("Put rejected a valid consent: %v", err)
				}
				return
			}
			assertProblems(t, err, tt.paths)
			assertEmpty(t, s)
		})
	}
}

// TestVocabularyMessages checks that a rejected code is named with the
// code it most likely meant, and that none is guessed when several fit.
func TestVocabularyMessages(t *testing.T) {
	t.Parallel()
	tests := []struct{ label, want string }{
		{"MHX", `"MHX" is not a security label code of http://terminology.hl7.org/CodeSystem/v3-ActCode that ds4p knows, so it would match nothing (did you mean "MH"?)`},
		{"sud", `(did you mean "SUD"?)`},
		{"HVI", `(did you mean "HIV"?)`},
		{"XQZW", `that ds4p knows, so it would match nothing`},
	}
	for _, tt := range tests {
		raw := edit(t, tpoConsent, `"type": "permit",`, `"type": "permit", "securityLabel": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "`+tt.label+`"}],`)
		_, err := Validate([]byte(raw))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate with label %s: %v; want it to contain %s", tt.label, err, tt.want)
		}
		if tt.label == "XQZW" && strings.Contains(err.Error(), "did you mean") {
			t.Errorf("Validate with label %s guessed a code: %v", tt.label, err)
		}
	}
}

// TestVocabularyWithOtherProblems: a vocabulary problem is reported with
// the others, not after they are fixed, and an R5 consent's problems name
// R5 elements.
func TestVocabularyWithOtherProblems(t *testing.T) {
	t.Parallel()
	raw := edit(t, edit(t, tpoConsent, `"status": "active"`, `"status": "actve"`), `"code": "HPAYMT"`, `"code": "hpaymt"`)
	_, err := newStore(t).Put(context.Background(), []byte(raw))
	assertProblems(t, err, []string{"Consent.status", "Consent.provision.provision[0].purpose"})

	r5 := readR5(t, "tpo")
	if !strings.Contains(r5, `"code": "TREAT"`) {
		t.Fatal("testdata/r5/tpo.json changed: it has no TREAT purpose")
	}
	_, err = newStore(t).Put(context.Background(), []byte(strings.Replace(r5, `"code": "TREAT"`, `"code": "treat"`, 1)))
	assertProblems(t, err, []string{"Consent.provision[0].purpose"})
}

// TestStoredUnknownCodeStillNormalizes checks that the vocabulary is checked
// where a consent is written, not when a stored one is read: a consent an
// earlier release stored with a code outside the vocabulary still reaches
// the policy, as it did.
func TestStoredUnknownCodeStillNormalizes(t *testing.T) {
	t.Parallel()
	raw := edit(t, tpoConsent, `"code": "HPAYMT"`, `"code": "LOCALPAY"`)
	n, err := Normalize(Record{ID: "c1", Version: 1, Patient: "Patient/p1", JSON: []byte(raw)})
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	found := false
	for _, r := range n.Rules {
		for _, c := range r.Conditions {
			found = found || slices.Contains(c.Purposes, "LOCALPAY")
		}
	}
	if !found {
		t.Errorf("normalized rules %+v lack the stored purpose LOCALPAY", n.Rules)
	}
}

// assertProblems checks that err is a *ValidationError with a problem at each
// of paths.
func assertProblems(t *testing.T, err error, paths []string) {
	t.Helper()
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("Put error = %v, want a *ValidationError", err)
	}
	got := make([]string, len(verr.Problems))
	for i, p := range verr.Problems {
		got[i] = p.Path
		if p.Message == "" {
			t.Errorf("problem at %s has no message", p.Path)
		}
	}
	for _, want := range paths {
		if !slices.Contains(got, want) {
			t.Errorf("problems %v lack path %q (error: %v)", got, want, err)
		}
	}
}

// assertEmpty checks that nothing was stored for Patient/p1.
func assertEmpty(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	if n, err := s.PatientVersion(ctx, "Patient/p1"); err != nil || n != 0 {
		t.Errorf("PatientVersion after rejection = %d, %v; want 0", n, err)
	}
	if recs, err := s.ForPatient(ctx, "Patient/p1"); err != nil || len(recs) != 0 {
		t.Errorf("ForPatient after rejection = %d records, %v; want none", len(recs), err)
	}
}

// TestWithMaxSize checks that the size cap is configurable.
func TestWithMaxSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		max     int
		wantErr bool
	}{
		{"under the cap", len(tpoConsent), false},
		{"over the cap", len(tpoConsent) - 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t, WithMaxSize(tt.max))
			_, err := s.Put(context.Background(), []byte(tpoConsent))
			if (err != nil) != tt.wantErr {
				t.Fatalf("Put error = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}
