package consent

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestR5GranteeNarrowsPermitsQA29D: an R5 consent's grantee is whom its
// permissions are given to. Read as R4, which has no such element, a
// consent with decision permit and grantee Organization/org-a that names
// no actor in its provisions permitted every caller. Every permit rule now
// carries a level naming the grantees (after the root's, before its own);
// deny rules are left as they are; a grantee a caller cannot be matched by
// is refused at its path (QA round 29, area D).
func TestR5GranteeNarrowsPermitsQA29D(t *testing.T) {
	t.Parallel()
	const tmpl = `{"resourceType":"Consent","id":"g1","status":"active","subject":{"reference":"Patient/p1"},"date":"2026-01-01",
	 "grantee":[GRANTEE],"decision":"permit",
	 "regulatoryBasis":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTIN"}]}],
	 "provision":[{"securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HIV"}],
	   "provision":[{"purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}]}]}]}`
	normalize := func(grantee string) (Normalized, error) {
		return Normalize(Record{ID: "g1", Version: 1, JSON: []byte(strings.Replace(tmpl, "GRANTEE", grantee, 1))})
	}
	n, err := normalize(`{"reference":"Organization/org-a"},{"identifier":{"system":"https://hl7.org/fhir/sid/us-npi/","value":"1234567893"}}`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Organization/org-a", "https://hl7.org/fhir/sid/us-npi/|1234567893", npiSystem + "|1234567893"}
	if len(n.Rules) != 3 {
		t.Fatalf("rules %+v", n.Rules)
	}
	for _, r := range n.Rules {
		var grantee []string
		if r.Type == "permit" {
			if len(r.Conditions) != r.Depth+2 {
				t.Fatalf("permit %s: %d levels, want %d", r.Path, len(r.Conditions), r.Depth+2)
			}
			grantee = r.Conditions[1].Actors
			if r.Depth > 0 && r.Conditions[len(r.Conditions)-1].Purposes[0] != "TREAT" {
				t.Errorf("permit %s: its own level is not last: %+v", r.Path, r.Conditions)
			}
		} else {
			if len(r.Conditions) != r.Depth+1 {
				t.Errorf("deny %s: %d levels, want %d (a deny keeps its reach)", r.Path, len(r.Conditions), r.Depth+1)
			}
			for _, c := range r.Conditions {
				grantee = append(grantee, c.Actors...)
			}
			if len(grantee) > 0 {
				t.Errorf("deny %s names actors %q", r.Path, grantee)
			}
			continue
		}
		if !slices.Equal(grantee, want) {
			t.Errorf("permit %s: grantee level %q, want %q", r.Path, grantee, want)
		}
	}
	// Without a grantee nothing is added.
	plain, err := Normalize(Record{ID: "g1", Version: 1, JSON: []byte(strings.Replace(tmpl, `"grantee":[GRANTEE],`, "", 1))})
	if err != nil {
		t.Fatal(err)
	}
	if len(plain.Rules[0].Conditions) != 1 {
		t.Errorf("a consent without grantee: root levels %+v", plain.Rules[0].Conditions)
	}
	// A grantee no caller can be matched by would give the permit to
	// everyone if it were left out.
	for _, bad := range []string{`{"display":"Dr Jones"}`, `{"reference":"#org"}`, `{"identifier":{"value":"123"}}`, `{"reference":7}`, `[]]`} {
		raw := strings.Replace(tmpl, "GRANTEE", bad, 1)
		if bad == `[]]` { // a grantee that is not a list
			raw = strings.Replace(tmpl, `[GRANTEE]`, `{"reference":"Organization/org-a"}`, 1)
		}
		_, err := Normalize(Record{ID: "g1", Version: 1, JSON: []byte(raw)})
		var ve *ValidationError
		if !errors.As(err, &ve) || !strings.Contains(err.Error(), "Consent.grantee") {
			t.Errorf("grantee %s: %v, want a problem at Consent.grantee", bad, err)
		}
		if _, err := Validate([]byte(raw)); err == nil {
			t.Errorf("grantee %s: a written consent was accepted", bad)
		}
	}
}
