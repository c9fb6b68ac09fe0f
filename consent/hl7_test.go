package consent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHL7R4Examples stores every Consent example of the FHIR R4
// specification (testdata/hl7-r4, CC0) and checks how each is read: the root
// rule's type and where it came from, the rule count, and the whole
// normalised form against a golden file.
func TestHL7R4Examples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id       string
		rootType string
		rootFrom string
		rules    int
	}{
		// OPTOUT, root without type: deny Organization/f001 (CST) for ETREAT, and
		// its child denies f001 too. (The narrative wants ETREAT permitted.)
		{"consent-example-Emergency", "deny", "policyRule", 2},
		// OPTOUT: deny Organization/f001.
		{"consent-example-Out", "deny", "policyRule", 1},
		// OPTIN: permit everything for 1964-01-01 to 2016-01-01.
		{"consent-example-basic", "permit", "policyRule", 1},
		// OPTOUT: deny f001 and Patient/example access.
		{"consent-example-grantor", "deny", "policyRule", 1},
		// OPTIN: permit Organization/f001 as custodian. (Narrative: withhold.)
		{"consent-example-notAuthor", "permit", "policyRule", 1},
		// Explicit root deny: the one example stored before R4 root handling.
		{"consent-example-notOrg", "deny", "provision.type", 1},
		// OPTIN: permit Practitioner/f204 access and correct. (Narrative: withhold.)
		{"consent-example-notThem", "permit", "policyRule", 1},
		// OPTIN: permit data related to Task/example3. (Narrative: withhold.)
		{"consent-example-notThis", "permit", "policyRule", 1},
		// OPTIN: permit during January 2015. (Narrative: withhold.)
		{"consent-example-notTime", "permit", "policyRule", 1},
		// OPTOUT: deny f001 access to N data; eleven untyped children permit it
		// for labels PSY, SPI, SEX and N.
		{"consent-example-pkb", "deny", "policyRule", 12},
		// OPTIN: permit Practitioner/13 for a year; a child permits CDA
		// documents of two LOINC codes by their author.
		{"consent-example-signature", "permit", "policyRule", 2},
		// OPTIN: permit for 30 minutes; a child permits MedicationRequest access.
		{"consent-example-smartonfhir", "permit", "policyRule", 2},
	}
	files, err := filepath.Glob(filepath.Join("testdata", "hl7-r4", "Consent-*.json"))
	if err != nil || len(files) != len(tests) {
		t.Fatalf("found %d example files (%v), want %d", len(files), err, len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(filepath.Join("testdata", "hl7-r4", "Consent-"+tt.id+".json"))
			if err != nil {
				t.Fatal(err)
			}
			rec := mustPut(t, newStore(t), string(raw))
			if rec.ID != tt.id {
				t.Errorf("stored id %q, want %q", rec.ID, tt.id)
			}
			n, err := Normalize(rec)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if n.Rules[0].Type != tt.rootType || n.RootTypeFrom != tt.rootFrom || len(n.Rules) != tt.rules {
				t.Errorf("root %s from %q with %d rules, want %s from %q with %d",
					n.Rules[0].Type, n.RootTypeFrom, len(n.Rules), tt.rootType, tt.rootFrom, tt.rules)
			}
			checkGolden(t, filepath.Join("hl7-r4", "golden", strings.TrimPrefix(tt.id, "consent-example-")+".normalized.json"), n)
		})
	}
}
