package proxy

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
)

// Labels of a Part 2 SUD record, and of one that is also about HIV.
var (
	part2Labels = []string{
		"http://terminology.hl7.org/CodeSystem/v3-ActCode|42CFRPart2",
		"http://terminology.hl7.org/CodeSystem/v3-ActCode|SUD",
		"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R",
	}
	part2HIVLabels = append(append([]string{}, part2Labels...), "http://terminology.hl7.org/CodeSystem/v3-ActCode|HIV")
)

// part2Case is one request decided against some of the consents of
// consent/testdata/part2.
type part2Case struct {
	name     string
	consents []string // file names without .json
	org      string
	subject  string
	purposes []string
	typ      string
	labels   []string
	want     string // the right effect under the consent's meaning
	// gap, when set, says why the default policy is known to decide
	// otherwise; the case is then skipped (with that reason) while the
	// policy still disagrees, and logged once it agrees.
	gap string
}

// TestPart2ConsentsThroughPolicy evaluates the hand-written Part 2 consents
// with the real default policy (embedded rego, OPA v1), as the response
// pipeline does: normalised by the consent package, one decision per class.
func TestPart2ConsentsThroughPolicy(t *testing.T) {
	t.Parallel()
	const (
		clinicA = "Organization/clinic-a"
		noCodes = "the policy input carries no codes of the item, so a deny by code applies to every item (fails closed)"
		noIDs   = "the policy input carries no id of the item, so a deny of a specific resource applies to every item (fails closed)"
		noDates = "the policy input carries no date of the item, so a deny by data period applies to every item (fails closed)"
	)
	tr := []string{"TREAT"}
	tests := []part2Case{
		{name: "TPO: named org, treatment", consents: []string{"tpo"}, org: clinicA, purposes: tr, typ: "Condition", labels: part2Labels, want: "permit"},
		{name: "TPO: named org, payment", consents: []string{"tpo"}, org: clinicA, purposes: []string{"HPAYMT"}, typ: "Condition", labels: part2Labels, want: "permit"},
		{name: "TPO: named org, operations", consents: []string{"tpo"}, org: clinicA, purposes: []string{"HOPERAT"}, typ: "Claim", labels: part2Labels, want: "permit"},
		{name: "TPO: another org", consents: []string{"tpo"}, org: "Organization/clinic-b", purposes: tr, typ: "Condition", labels: part2Labels, want: "deny"},
		{name: "TPO: marketing", consents: []string{"tpo"}, org: clinicA, purposes: []string{"HMARKT"}, typ: "Condition", labels: part2Labels, want: "deny"},
		{name: "TPO: no purpose", consents: []string{"tpo"}, org: clinicA, typ: "Condition", labels: part2Labels, want: "deny"},
		{name: "TPO: treatment and marketing together", consents: []string{"tpo"}, org: clinicA, purposes: []string{"TREAT", "HMARKT"}, typ: "Condition", labels: part2Labels, want: "deny"},
		{name: "no consent at all", org: clinicA, purposes: tr, typ: "Condition", labels: part2Labels, want: "deny"},
		{name: "named recipient: the practitioner", consents: []string{"named-recipient"}, org: "Organization/clinic-z", subject: "Practitioner/dr-jones", purposes: tr, typ: "Condition", labels: part2Labels, want: "permit"},
		{name: "named recipient: a colleague", consents: []string{"named-recipient"}, org: "Organization/clinic-z", subject: "Practitioner/dr-smith", purposes: tr, typ: "Condition", labels: part2Labels, want: "deny"},
		{name: "general designation: an HIE member", consents: []string{"general-designation"}, org: "Organization/clinic-m", purposes: tr, typ: "Condition", labels: part2Labels, want: "permit"},
		{name: "general designation: not a member", consents: []string{"general-designation"}, org: "Organization/clinic-n", purposes: tr, typ: "Condition", labels: part2Labels, want: "deny"},
		{name: "general designation: the HIE itself", consents: []string{"general-designation"}, org: "Organization/hie-x", purposes: tr, typ: "Condition", labels: part2Labels, want: "permit"},
		{name: "expired", consents: []string{"expired"}, org: clinicA, purposes: tr, typ: "Condition", labels: part2Labels, want: "deny"},
		{name: "not yet valid", consents: []string{"not-yet-valid"}, org: clinicA, purposes: tr, typ: "Condition", labels: part2Labels, want: "deny"},
		{name: "revoked", consents: []string{"revoked"}, org: clinicA, purposes: tr, typ: "Condition", labels: part2Labels, want: "deny"},
		{name: "research: the researcher, for research", consents: []string{"research"}, org: "Organization/research-u", purposes: []string{"HRESCH"}, typ: "Observation", labels: part2Labels, want: "permit"},
		{name: "research: the researcher, for treatment", consents: []string{"research"}, org: "Organization/research-u", purposes: tr, typ: "Observation", labels: part2Labels, want: "deny"},
		{name: "research: another org, for research", consents: []string{"research"}, org: clinicA, purposes: []string{"HRESCH"}, typ: "Observation", labels: part2Labels, want: "deny"},
		{name: "deny by label: other SUD data", consents: []string{"deny-label"}, org: clinicA, purposes: tr, typ: "Condition", labels: part2Labels, want: "permit"},
		{name: "deny by label: HIV data", consents: []string{"deny-label"}, org: clinicA, purposes: tr, typ: "Condition", labels: part2HIVLabels, want: "deny"},
		{name: "deny by class: Condition", consents: []string{"deny-class"}, org: clinicA, purposes: tr, typ: "Condition", labels: part2Labels, want: "permit"},
		{name: "deny by class: MedicationRequest", consents: []string{"deny-class"}, org: clinicA, purposes: tr, typ: "MedicationRequest", labels: part2Labels, want: "deny"},
		{name: "deny by code: a class that may hold the code", consents: []string{"deny-code"}, org: clinicA, purposes: tr, typ: "Condition", labels: part2Labels, want: "deny"},
		{name: "deny by code: data without the code", consents: []string{"deny-code"}, org: clinicA, purposes: tr, typ: "Observation", labels: part2Labels, want: "permit", gap: noCodes},
		{name: "deny by actor: the permitted org", consents: []string{"deny-actor"}, org: clinicA, purposes: tr, typ: "Condition", labels: part2Labels, want: "permit"},
		{name: "deny by actor: the excluded org", consents: []string{"deny-actor"}, org: "Organization/clinic-b", purposes: tr, typ: "Condition", labels: part2Labels, want: "deny"},
		{name: "deny by data period: data that may be old", consents: []string{"deny-data-period"}, org: clinicA, purposes: tr, typ: "Condition", labels: part2Labels, want: "deny"},
		{name: "deny by data period: recent data", consents: []string{"deny-data-period"}, org: clinicA, purposes: tr, typ: "Encounter", labels: part2Labels, want: "permit", gap: noDates},
		{name: "deny of a resource: its class", consents: []string{"deny-resource"}, org: clinicA, purposes: tr, typ: "Condition", labels: part2Labels, want: "deny"},
		{name: "deny of a resource: other resources", consents: []string{"deny-resource"}, org: clinicA, purposes: tr, typ: "Observation", labels: part2Labels, want: "permit", gap: noIDs},
		{name: "three levels: permitted org, Condition", consents: []string{"nested-three"}, org: clinicA, subject: "Practitioner/dr-b", purposes: tr, typ: "Condition", labels: part2Labels, want: "permit"},
		{name: "three levels: MedicationRequest denied", consents: []string{"nested-three"}, org: clinicA, subject: "Practitioner/dr-b", purposes: tr, typ: "MedicationRequest", labels: part2Labels, want: "deny"},
		{name: "three levels: MedicationRequest for the named practitioner", consents: []string{"nested-three"}, org: clinicA, subject: "Practitioner/dr-a", purposes: tr, typ: "MedicationRequest", labels: part2Labels, want: "permit"},
		{name: "three levels: the named practitioner elsewhere", consents: []string{"nested-three"}, org: "Organization/clinic-b", subject: "Practitioner/dr-a", purposes: tr, typ: "MedicationRequest", labels: part2Labels, want: "deny"},
		{name: "two consents, two recipients: the first", consents: []string{"tpo", "research"}, org: clinicA, purposes: tr, typ: "Condition", labels: part2Labels, want: "permit"},
		{name: "two consents, one revoked: the other still permits", consents: []string{"tpo", "revoked"}, org: clinicA, purposes: tr, typ: "Condition", labels: part2Labels, want: "permit"},
		{name: "ordinary data needs no Part 2 consent", consents: []string{"tpo"}, org: "Organization/clinic-b", purposes: tr, typ: "Observation", want: "permit"},
	}
	eng := designationEngine(t)
	consents := loadPart2Consents(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := eng.Decide(context.Background(), part2Input(tt, consents))
			if err != nil {
				t.Fatalf("Decide: %v", err)
			}
			switch {
			case d.Effect == tt.want && tt.gap != "":
				t.Logf("the policy now decides %s as it should; remove the gap note (%s)", tt.want, tt.gap)
			case d.Effect != tt.want && tt.gap != "":
				t.Skipf("known policy gap: got %s, want %s: %s", d.Effect, tt.want, tt.gap)
			case d.Effect != tt.want:
				reasons, _ := json.Marshal(d.Reasons)
				t.Errorf("effect %s, want %s; reasons %s", d.Effect, tt.want, reasons)
			}
		})
	}
}

// part2Time is when the requests are made: inside every consent's period
// except expired's and not-yet-valid's.
var part2Time = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// part2Input builds the policy input of one case.
func part2Input(tt part2Case, all map[string]*consent.Normalized) policy.Input {
	cs := []any{}
	for _, name := range tt.consents {
		cs = append(cs, all[name])
	}
	subject := tt.subject
	if subject == "" {
		subject = "user-1"
	}
	return policy.Input{
		Caller: policy.Caller{Subject: subject, Org: tt.org, OrgIdentifiers: []string{}, Scopes: []string{"patient/*.read"},
			Purposes: append([]string{}, tt.purposes...)},
		Request:  policy.Request{Interaction: "read", Type: tt.typ, TimeNS: part2Time.UnixNano()},
		Patient:  "Patient/p2",
		Consents: cs,
		Item:     policy.Item{Type: tt.typ, Labels: append([]string{}, tt.labels...)},
	}
}

// loadPart2Consents normalises every consent of consent/testdata/part2.
func loadPart2Consents(t *testing.T) map[string]*consent.Normalized {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "consent", "testdata", "part2", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Part 2 consents found: %v", err)
	}
	out := map[string]*consent.Normalized{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		info, err := consent.Validate(raw)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		n, err := consent.Normalize(consent.Record{ID: info.ID, Version: 1, Patient: info.Patient, Status: info.Status, JSON: raw})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = &n
	}
	return out
}

// designationEngine loads the embedded default policy with one general
// designation configured in its policy data, as an analyst would:
// Organization/hie-x's members are clinic-m.
func designationEngine(t *testing.T) *policy.Engine {
	t.Helper()
	overlay := fstest.MapFS{}
	err := fs.WalkDir(rego.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(rego.FS(), p)
		overlay[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	const dataPath = "ds4p/config/data.json"
	var cfg map[string]any
	if err := json.Unmarshal(overlay[dataPath].Data, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["designations"] = map[string]any{"Organization/hie-x": []string{"Organization/clinic-m"}}
	if overlay[dataPath].Data, err = json.Marshal(cfg); err != nil {
		t.Fatal(err)
	}
	eng, err := policy.New(context.Background(), overlay)
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// TestHL7ExamplesThroughPolicy evaluates two of the FHIR R4 Consent examples
// (consent/testdata/hl7-r4) for ordinary data, which general opt-out/opt-in
// consents govern: Out has no root type (R4), so its OPTOUT policyRule makes
// the root a deny of Organization/f001; notOrg states its root deny.
func TestHL7ExamplesThroughPolicy(t *testing.T) {
	t.Parallel()
	eng, err := policy.New(context.Background(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		example, org, want string
	}{
		{"Out", "Organization/f001", "deny"},
		{"Out", "Organization/f002", "permit"},
		{"notOrg", "Organization/f001", "deny"},
		{"notOrg", "Organization/f002", "permit"},
	}
	for _, tt := range tests {
		t.Run(tt.example+" "+tt.org, func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(filepath.Join("..", "consent", "testdata", "hl7-r4", "Consent-consent-example-"+tt.example+".json"))
			if err != nil {
				t.Fatal(err)
			}
			n, err := consent.Normalize(consent.Record{ID: tt.example, Version: 1, JSON: raw})
			if err != nil {
				t.Fatal(err)
			}
			in := policy.Input{
				Caller:   policy.Caller{Subject: "u", Org: tt.org, OrgIdentifiers: []string{}, Scopes: []string{}, Purposes: []string{"TREAT"}},
				Request:  policy.Request{Interaction: "read", Type: "Observation", TimeNS: part2Time.UnixNano()},
				Patient:  "Patient/f001",
				Consents: []any{&n},
				Item:     policy.Item{Type: "Observation", Labels: []string{}},
			}
			d, err := eng.Decide(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			if d.Effect != tt.want {
				t.Errorf("effect %s, want %s (reasons %+v)", d.Effect, tt.want, d.Reasons)
			}
		})
	}
}

// TestConsentInputsMatchSchema checks the normalised consents, inside a whole
// policy input, against rego/schema/input.schema.json.
func TestConsentInputsMatchSchema(t *testing.T) {
	t.Parallel()
	all := loadPart2Consents(t)
	for name := range all {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in := part2Input(part2Case{consents: []string{name}, org: "Organization/x", purposes: []string{"TREAT"}, typ: "Condition", labels: part2Labels}, all)
			in.Version = policy.InputVersion
			raw, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			var doc any
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			problems, err := policy.ValidateInput(context.Background(), rego.FS(), doc)
			if err != nil || len(problems) > 0 {
				t.Errorf("input does not match the schema: %v %v", err, problems)
			}
		})
	}
}
