package proxy

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/ds4p/ds4p/consent"
)

// TestDenyLabelInAnotherSystemWithholds: an upstream consent's deny of HIV
// records filed the label under v3-ActReason, or spelt it in lower case.
// A written consent refuses such a label, but one read from the EHR is
// taken as written, and as written it matched no record, since the data
// carries v3-ActCode HIV: the permit above it disclosed the patient's HIV
// records to the clinic the patient had excluded them from.
func TestDenyLabelInAnotherSystemWithholds(t *testing.T) {
	t.Parallel()
	eng := designationEngine(t)
	for _, tt := range []struct{ name, system, code string }{
		{"HIV under v3-ActReason", "http://terminology.hl7.org/CodeSystem/v3-ActReason", "HIV"},
		{"hiv in lower case", "http://terminology.hl7.org/CodeSystem/v3-ActCode", "hiv"},
		{"HIV under v3-Confidentiality", "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "HIV"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw := []byte(clinicAConsent("spelt", "", `{"type":"deny","securityLabel":[{"system":"`+tt.system+`","code":"`+tt.code+`"}]}`))
			n, err := consent.Normalize(consent.Record{ID: "spelt", Version: 1, Patient: "Patient/p2", Status: "active", JSON: raw})
			if err != nil {
				t.Fatal(err)
			}
			all := map[string]*consent.Normalized{"spelt": &n}
			for labels, want := range map[*[]string]string{&part2HIVLabels: "deny", &part2Labels: "permit"} {
				in := part2Input(part2Case{consents: []string{"spelt"}, org: "Organization/clinic-a",
					purposes: []string{"TREAT"}, typ: "Condition", labels: *labels}, all)
				d, err := eng.Decide(context.Background(), in)
				if err != nil {
					t.Fatalf("Decide: %v", err)
				}
				if d.Effect != want {
					reasons, _ := json.Marshal(d.Reasons)
					t.Errorf("labels %v: effect %s, want %s; reasons %s", *labels, d.Effect, want, reasons)
				}
			}
		})
	}
}
