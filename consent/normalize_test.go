package consent

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// part2Consent is the typical Part 2 shape: deny everything, except permit
// Organization/x for treatment.
const part2Consent = `{
  "resourceType": "Consent",
  "id": "part2",
  "status": "active",
  "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
  "patient": {"reference": "Patient/p1"},
  "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "42CFRPart2"}]},
  "provision": {
    "type": "deny",
    "period": {"start": "2026-02-16", "end": "2026-12-31"},
    "provision": [{
      "type": "permit",
      "actor": [{
        "role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}]},
        "reference": {"reference": "Organization/x"}
      }],
      "purpose": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT"}]
    }]
  }
}`

// treeConsent nests three levels: permit all, deny PSY-labelled Conditions,
// except (no type, so permit) for one NPI's access to one condition; and
// (no type, so deny) marketing.
const treeConsent = `{
  "resourceType": "Consent",
  "id": "tree",
  "status": "active",
  "patient": {"reference": "Patient/p1"},
  "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]},
  "policy": [{"uri": "http://example.org/policy/hie"}],
  "provision": {
    "type": "permit",
    "provision": [
      {
        "type": "deny",
        "securityLabel": [{"system": "http://hl7.org/fhir/v3/ActCode", "code": "PSY"}],
        "class": [{"system": "http://hl7.org/fhir/resource-types", "code": "Condition"}],
        "provision": [{
          "actor": [{
            "role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "PRCP"}]},
            "reference": {"identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}}
          }],
          "action": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentaction", "code": "access"}]}],
          "period": {"start": "2026-01-01T09:00:00-05:00", "end": "2026-06"},
          "dataPeriod": {"end": "2020"},
          "data": [{"meaning": "instance", "reference": {"reference": "Condition/c1"}}],
          "code": [{"coding": [{"system": "http://snomed.info/sct", "code": "66590003"}]}]
        }]
      },
      {"purpose": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "HMARKT"}]}
    ]
  }
}`

// ns returns the unix nanoseconds of an RFC 3339 time.
func ns(t *testing.T, s string) int64 {
	t.Helper()
	return mustTime(t, s).UnixNano()
}

// TestNormalize checks the policy form of a Part 2 consent and of a
// three-level tree, field by field and against golden JSON.
func TestNormalize(t *testing.T) {
	t.Parallel()
	// The consents' dates have no time: a deny reads them from 14 hours
	// early to 12 hours late, a permit from 12 hours late to 14 hours
	// early (Cond.settle), and the consent is in force for the widest.
	root := emptyCond()
	root.Start, root.End = ns(t, "2026-02-15T10:00:00Z"), ns(t, "2027-01-01T12:00:00Z")
	rootInPermit := emptyCond()
	rootInPermit.Start, rootInPermit.End = ns(t, "2026-02-16T12:00:00Z"), ns(t, "2026-12-31T10:00:00Z")
	treatX := emptyCond()
	treatX.Actors, treatX.Roles, treatX.Purposes = []string{"Organization/x"}, []string{"IRCP"}, []string{"TREAT"}

	psy := emptyCond()
	psy.Labels = []string{"http://terminology.hl7.org/CodeSystem/v3-ActCode|PSY"}
	psy.Classes = []string{"Condition"}
	npi := emptyCond()
	npi.Actors = []string{"http://hl7.org/fhir/sid/us-npi|1234567893"}
	npi.Roles, npi.Actions = []string{"PRCP"}, []string{"access"}
	npi.Codes, npi.Data = []string{"http://snomed.info/sct|66590003"}, []string{"Condition/c1"}
	npi.DataRefs = []DataRef{{Reference: "Condition/c1", Meaning: "instance"}}
	npi.Start, npi.End = ns(t, "2026-01-01T14:00:00Z"), ns(t, "2026-06-30T10:00:00Z")
	npi.DataEnd = ns(t, "2020-12-31T10:00:00Z")
	marketing := emptyCond()
	marketing.Purposes = []string{"HMARKT"}

	tests := []struct {
		name   string
		raw    string
		golden string
		want   Normalized
	}{
		{name: "Part 2 deny root, permit child", raw: part2Consent, golden: "part2.normalized.json", want: Normalized{
			ID: "part2", Version: "1", Status: "active", Patient: "Patient/p1",
			Policies: []string{"42CFRPart2"}, Start: root.Start, End: root.End, RootTypeFrom: "provision.type",
			Rules: []Rule{
				{Path: "provision", Depth: 0, Type: "deny", Conditions: []Cond{root}},
				{Path: "provision.provision[0]", Depth: 1, Type: "permit", Conditions: []Cond{rootInPermit, treatX}},
			},
		}},
		{name: "three levels", raw: treeConsent, golden: "tree.normalized.json", want: Normalized{
			ID: "tree", Version: "1", Status: "active", Patient: "Patient/p1",
			Policies: []string{"OPTIN", "http://example.org/policy/hie"}, RootTypeFrom: "provision.type",
			Rules: []Rule{
				{Path: "provision", Depth: 0, Type: "permit", Conditions: []Cond{emptyCond()}},
				{Path: "provision.provision[0]", Depth: 1, Type: "deny", Conditions: []Cond{emptyCond(), psy}},
				{Path: "provision.provision[0].provision[0]", Depth: 2, Type: "permit", Conditions: []Cond{emptyCond(), psy, npi}},
				{Path: "provision.provision[1]", Depth: 1, Type: "deny", Conditions: []Cond{emptyCond(), marketing}},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := mustPut(t, newStore(t), tt.raw)
			got, err := Normalize(rec)
			if err != nil {
				t.Fatalf("Normalize: %v", err)
			}
			if got.logicalID != rec.ID || got.updated == 0 {
				t.Errorf("merge keys: id %q updated %d", got.logicalID, got.updated)
			}
			got.logicalID, got.identifiers, got.updated = "", nil, 0 // not policy input
			// The policy reads the JSON form: compare that.
			gotJSON, _ := json.MarshalIndent(got, "", "  ")
			wantJSON, _ := json.MarshalIndent(tt.want, "", "  ")
			if string(gotJSON) != string(wantJSON) {
				t.Errorf("Normalize =\n%s\nwant\n%s", gotJSON, wantJSON)
			}
			checkGolden(t, tt.golden, got)
		})
	}
}

// checkGolden compares v, as indented JSON, with testdata/name.
func checkGolden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n%s", name, got)
	}
}

// TestNormalizeRevalidates checks that a hand-made Record cannot skip
// validation.
func TestNormalizeRevalidates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		json string
	}{
		{"misspelt actor", edit(t, part2Consent, `"actor"`, `"actors"`)},
		{"not JSON", `{`},
		{"empty", ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Normalize(Record{ID: "x", Version: 1, JSON: []byte(tt.json)}); err == nil {
				t.Error("Normalize accepted an invalid consent")
			}
		})
	}
}

// TestNormalizeDataReferences checks that provision.data references reach the
// policy as Type/id, the form of an item's own reference: an absolute URL
// without its base, a version reference without /_history/<version>.
func TestNormalizeDataReferences(t *testing.T) {
	t.Parallel()
	for _, ref := range []string{
		"Condition/c1",
		"http://host/fhir/Condition/c1",
		"https://ehr.example:8443/r4/fhir/Condition/c1/_history/3",
		"Condition/c1/_history/1",
	} {
		raw := edit(t, treeConsent, `"reference": "Condition/c1"`, `"reference": "`+ref+`"`)
		n, err := Normalize(Record{ID: "tree", Version: 1, Patient: "Patient/p1", JSON: []byte(raw)})
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		var found bool
		for _, r := range n.Rules {
			for _, c := range r.Conditions {
				if len(c.DataRefs) == 0 {
					continue
				}
				found = true
				if want := []DataRef{{Reference: "Condition/c1", Meaning: "instance"}}; !slices.Equal(c.DataRefs, want) {
					t.Errorf("%s: data_refs %v, want %v", ref, c.DataRefs, want)
				}
				if !slices.Equal(c.Data, []string{"Condition/c1"}) {
					t.Errorf("%s: data %v, want [Condition/c1]", ref, c.Data)
				}
			}
		}
		if !found {
			t.Errorf("%s: no rule carries the data reference", ref)
		}
	}
}
