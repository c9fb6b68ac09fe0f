package proxy

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/ds4p/ds4p/consent"
)

// clinicAConsent is a Part 2 consent of Patient/p2 (root deny) that lets
// clinic-a have the patient's records for treatment (with permitPeriod,
// members of the permit such as a period, each followed by a comma),
// except what the nested deny provision names.
func clinicAConsent(id, permitPeriod, nestedDeny string) string {
	return `{"resourceType":"Consent","id":"` + id + `","status":"active",
 "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
 "category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
 "patient":{"reference":"Patient/p2"},
 "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}]},
 "provision":{"type":"deny","provision":[{"type":"permit",` + permitPeriod + `
   "actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/clinic-a"}}],
   "purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}],
   "provision":[` + nestedDeny + `]}]}}`
}

// zonelessConsent has periods that are dates without a time, as most
// consent forms are written: clinic-a may have the patient's SUD records
// for treatment during 2026, except HIV records until the end of June.
var zonelessConsent = clinicAConsent("dates", `"period":{"start":"2026-01-01","end":"2026-12-31"},`,
	`{"type":"deny","period":{"end":"2026-06-30"},
     "securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HIV"}]}`)

// TestZonelessConsentDatesReadSafely: a consent's dates carry no zone, so
// the day a permission or a refusal ends on begins somewhere between
// UTC+14 and UTC-12. The policy must neither disclose after a permission
// may have ended (it ends at the first midnight, UTC+14's) nor before a
// refusal may have ended (at the last, UTC-12's). Read as UTC, the
// permission ran 14 hours too long and the refusal ended 12 hours early.
func TestZonelessConsentDatesReadSafely(t *testing.T) {
	t.Parallel()
	raw := []byte(zonelessConsent)
	info, err := consent.Validate(raw)
	if err != nil {
		t.Fatal(err)
	}
	n, err := consent.Normalize(consent.Record{ID: info.ID, Version: 1, Patient: info.Patient, Status: info.Status, JSON: raw})
	if err != nil {
		t.Fatal(err)
	}
	eng := designationEngine(t)
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name   string
		at     time.Time
		labels []string
		want   string
	}{
		{"SUD in the middle of the year", at("2026-06-01T12:00:00Z"), part2Labels, "permit"},
		// 2026-12-31T12:00Z is already 2027-01-01 in UTC+14.
		{"SUD after the permission may have ended", at("2026-12-31T12:00:00Z"), part2Labels, "deny"},
		{"SUD before the last day ends anywhere", at("2026-12-31T09:00:00Z"), part2Labels, "permit"},
		// 2026-01-01T06:00Z is still 2025-12-31 in UTC-12.
		{"SUD before the permission may have begun", at("2026-01-01T06:00:00Z"), part2Labels, "deny"},
		{"SUD once the first day has begun everywhere", at("2026-01-01T13:00:00Z"), part2Labels, "permit"},
		// 2026-07-01T06:00Z is still 2026-06-30 in UTC-12.
		{"HIV while the refusal may still hold", at("2026-07-01T06:00:00Z"), part2HIVLabels, "deny"},
		{"HIV after the refusal has ended everywhere", at("2026-07-01T13:00:00Z"), part2HIVLabels, "permit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := part2Input(part2Case{consents: []string{"dates"}, org: "Organization/clinic-a",
				purposes: []string{"TREAT"}, typ: "Condition", labels: tt.labels},
				map[string]*consent.Normalized{"dates": &n})
			in.Request.TimeNS = tt.at.UnixNano()
			d, err := eng.Decide(context.Background(), in)
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			if d.Effect != tt.want {
				reasons, _ := json.Marshal(d.Reasons)
				t.Errorf("at %s: effect %s, want %s; reasons %s", tt.at.Format(time.RFC3339), d.Effect, tt.want, reasons)
			}
		})
	}
}
