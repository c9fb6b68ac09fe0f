package consent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readR5 returns testdata/r5/name.json.
func readR5(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "r5", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// TestR5Consents stores the hand-written R5 consents of testdata/r5 and
// checks the rule tree each normalises to; the stored resource stays R5.
func TestR5Consents(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file, rules, policies string
	}{
		{"tpo", "[deny@0 permit@1]", "[42CFRPart2]"},
		{"optout", "[deny@0 permit@1]", "[OPTOUT https://example.org/policies/hie-opt-out]"},
		{"nested", "[deny@0 permit@1 deny@2 permit@3]", "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			rec := mustPut(t, newStore(t), readR5(t, tt.file))
			if !strings.Contains(string(rec.JSON), `"subject"`) || strings.Contains(string(rec.JSON), `"patient"`) {
				t.Errorf("stored form is not the R5 original: %s", rec.JSON)
			}
			n, err := Normalize(rec)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range n.Rules {
				got = append(got, fmt.Sprintf("%s@%d", r.Type, r.Depth))
			}
			if fmt.Sprint(got) != tt.rules || fmt.Sprint(n.Policies) != tt.policies ||
				n.Patient != "Patient/p1" || n.Status != "active" || n.RootTypeFrom != rootFromProvision {
				t.Errorf("%s: rules %v policies %v patient %s status %s from %s", tt.file, got, n.Policies, n.Patient, n.Status, n.RootTypeFrom)
			}
		})
	}
}

// TestR5MatchesR4 checks that the R5 TPO consent reads exactly like the R4
// one it was written from: same period, same rules, same conditions, but
// for the level its permit gets for its grantee (Organization/x, whom the
// provision names too; toGrantees).
func TestR5MatchesR4(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	r5, err := Normalize(mustPut(t, s, readR5(t, "tpo")))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range r5.Rules {
		if r.Type != "permit" {
			continue
		}
		if len(r.Conditions) < 2 || fmt.Sprint(r.Conditions[1].Actors) != "[Organization/x]" {
			t.Fatalf("R5 permit %s has no level for its grantee: %+v", r.Path, r.Conditions)
		}
		r5.Rules[i].Conditions = append(r.Conditions[:1:1], r.Conditions[2:]...)
	}
	r4, err := Normalize(mustPut(t, s, tpoConsent))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(r5.Rules)
	b, _ := json.Marshal(r4.Rules)
	if string(a) != string(b) || r5.Start != r4.Start || r5.End != r4.End || r5.Start == 0 {
		t.Errorf("R5 reads\n%s\nR4 reads\n%s", a, b)
	}
	nested, err := Normalize(mustPut(t, s, readR5(t, "nested")))
	if err != nil {
		t.Fatal(err)
	}
	deny := nested.Rules[2].Conditions[2]
	if fmt.Sprint(deny.Classes) != "[Observation]" || len(deny.Labels) != 1 || nested.Rules[3].Conditions[3].DataStart == 0 {
		t.Errorf("nested R5 conditions lost: %+v / %+v", deny, nested.Rules[3].Conditions[3])
	}
}

// TestR5Rejected checks that R5 consents the proxy cannot read exactly are
// refused whole, with R5 paths, and nothing is stored.
func TestR5Rejected(t *testing.T) {
	t.Parallel()
	tpo := readR5(t, "tpo")
	tests := []struct{ name, raw, path string }{
		{"expression", edit(t, tpo, `"actor": [{`, `"expression": {"language": "text/fhirpath", "expression": "true"}, "actor": [{`),
			"Consent.provision[0].expression"},
		{"misspelt provision element", edit(t, tpo, `"actor": [{`, `"actors": [{`), "Consent.provision[0].actors"},
		{"R4 element in an R5 consent", edit(t, tpo, `"subject"`, `"patient"`), "Consent.patient"},
		{"bad decision", edit(t, tpo, `"decision": "deny"`, `"decision": "maybe"`), "Consent.decision"},
		{"subject not a patient", edit(t, tpo, `"subject": {"reference": "Patient/p1"}`, `"subject": {"reference": "Group/g"}`), "Consent.subject.reference"},
		{"bad date in period", edit(t, tpo, `"end": "2026-12-31"`, `"end": "2026-13-31"`), "Consent.period.end"},
		{"unknown resource type", edit(t, readR5(t, "nested"), `"code": "Observation"`, `"code": "Observable"`), "Consent.provision[0].provision[0].resourceType|documentType[0].code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			_, err := s.Put(context.Background(), []byte(tt.raw))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Put: %v, want a validation error", err)
			}
			found := false
			for _, p := range ve.Problems {
				found = found || p.Path == tt.path
			}
			if !found {
				t.Errorf("problems %v do not name %s", ve.Problems, tt.path)
			}
			if recs, _ := s.ForPatient(context.Background(), "Patient/p1"); len(recs) != 0 {
				t.Errorf("a rejected consent was stored")
			}
		})
	}
}

// TestReleaseForced checks the fhirVersion a client states: an R5 consent
// sent as R4 is refused, and an R4 one sent as R5.
func TestReleaseForced(t *testing.T) {
	t.Parallel()
	if _, err := ValidateRelease([]byte(readR5(t, "tpo")), ReleaseR4); err == nil {
		t.Error("an R5 consent validated as R4")
	}
	if _, err := ValidateRelease([]byte(tpoConsent), ReleaseR5); err == nil {
		t.Error("an R4 consent validated as R5")
	}
	if info, err := ValidateRelease([]byte(readR5(t, "tpo")), ReleaseR5); err != nil || info.Patient != "Patient/p1" || info.ID != "r5-tpo" {
		t.Errorf("R5 as R5: %+v, %v", info, err)
	}
	for v, want := range map[string]Release{"": ReleaseAuto, "4.0": ReleaseR4, "4.0.1": ReleaseR4, "5.0": ReleaseR5} {
		if got, ok := ReleaseOf(v); !ok || got != want {
			t.Errorf("ReleaseOf(%q) = %v, %v", v, got, ok)
		}
	}
	if _, ok := ReleaseOf("3.0"); ok {
		t.Error("fhirVersion 3.0 accepted")
	}
}

// TestR5Search checks that search reads R5 consents through the same
// mapping (actor, period).
func TestR5Search(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	mustPut(t, s, readR5(t, "tpo"))
	q, err := ParseQuery(map[string][]string{"actor": {"Organization/x"}, "period": {"ge2026-03-01"}})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := s.Search(context.Background(), q)
	if err != nil || len(recs) != 1 {
		t.Errorf("search found %d, %v; want the R5 consent", len(recs), err)
	}
}

// TestIsR5 checks the shape detection on the cases that could mislead it.
func TestIsR5(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]bool{
		tpoConsent: false,
		`{"resourceType":"Consent","text":{"div":"\"subject\": x"},"provision":{"provision":[]}}`: false,
		`{"resourceType":"Consent","status":"subject","x":{"decision":"deny"}}`:                   false,
		`{"resourceType":"Consent","provision" : [ ]}`:                                            true,
		`{"resourceType":"Consent","decision":"deny"}`:                                            true,
		`{"resourceType":"Consent","a\"b":1,"subject":{}}`:                                        true,
	} {
		if got := isR5([]byte(raw)); got != want {
			t.Errorf("isR5(%s) = %v", raw, got)
		}
	}
}

// TestPatientIdentifier checks reading a patient given by identifier and
// filling in its reference, in R4 and R5.
func TestPatientIdentifier(t *testing.T) {
	t.Parallel()
	const id = `{"identifier": {"system": "urn:mrn", "value": "123"}}`
	r4 := edit(t, tpoConsent, `{"reference": "Patient/p1"}`, id)
	r5 := edit(t, readR5(t, "tpo"), `"subject": {"reference": "Patient/p1"}`, `"subject": `+id)
	for name, raw := range map[string]string{"R4": r4, "R5": r5} {
		sys, val, ok := PatientIdentifier([]byte(raw))
		if !ok || sys != "urn:mrn" || val != "123" {
			t.Errorf("%s: %q %q %v", name, sys, val, ok)
		}
		if _, err := Validate([]byte(raw)); err == nil {
			t.Errorf("%s: a patient without reference validated", name)
		}
		filled, err := WithPatientReference([]byte(raw), "Patient/p9")
		if err != nil {
			t.Fatal(err)
		}
		info, err := Validate(filled)
		if err != nil || info.Patient != "Patient/p9" || !strings.Contains(string(filled), `"urn:mrn"`) {
			t.Errorf("%s: filled %s: %+v %v", name, filled, info, err)
		}
		if _, _, ok := PatientIdentifier(filled); ok {
			t.Errorf("%s: a patient with reference reads as identifier-only", name)
		}
	}
	if _, _, ok := PatientIdentifier([]byte(tpoConsent)); ok {
		t.Error("a patient by reference reads as identifier-only")
	}
	if _, err := WithPatientReference([]byte(r4), "Group/g"); err == nil {
		t.Error("a non-Patient reference was set")
	}
}

// TestR5Revoke checks that revoking an R5 consent stores a new R5 version
// that reads as inactive.
func TestR5Revoke(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	mustPut(t, s, readR5(t, "tpo"))
	rec, changed, err := s.Revoke(context.Background(), "r5-tpo", "")
	if err != nil || !changed || rec.Version != 2 {
		t.Fatalf("Revoke: v%d %v %v", rec.Version, changed, err)
	}
	n, err := Normalize(rec)
	if err != nil || n.Status != "inactive" || !strings.Contains(string(rec.JSON), `"decision"`) {
		t.Errorf("revoked R5: %s %v %s", n.Status, err, rec.JSON)
	}
}
