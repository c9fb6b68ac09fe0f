package labels_test

import (
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// QA round 36, area E (area A's finding A-5): the labels a stored Bundle
// carries of its own are read as a resource's existing labels are, and
// given to its entries before labels propagate.

// bundleMeta returns the Bundle b and where its meta's value starts.
func bundleMeta(t *testing.T, meta string) ([]byte, int) {
	t.Helper()
	b := `{"resourceType":"Bundle","type":"collection","meta":` + meta + `,"entry":[]}`
	return []byte(b), strings.Index(b, `"meta":`) + len(`"meta":`)
}

// TestBundleLabelsQA36E: BundleLabels reads meta.security as the
// labeller reads a resource's (an OID system, an unknown confidentiality
// as R) and the label codes of meta.tag, and keeps those a reference
// passes on: not an obligation, not another system's code.
func TestBundleLabelsQA36E(t *testing.T) {
	t.Parallel()
	b, at := bundleMeta(t, `{"security":[`+
		`{"system":"urn:oid:2.16.840.1.113883.5.25","code":"R"},`+
		`{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"X"},`+
		`{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PROCESSINLINELABEL"},`+
		`{"system":"urn:example:labels","code":"secret"},`+
		`{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"42CFRPart2"},`+
		`{"display":"a label without a code"}],`+
		`"tag":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"},{"system":"urn:example:tags","code":"x"}]}`)
	got, err := labels.BundleLabels(b, at)
	if err != nil {
		t.Fatal(err)
	}
	want := labels.NewSet(labels.Restricted, labels.SUD, labels.Part2Policy)
	if !got.Equal(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for _, bad := range []string{
		`{"security":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]}]}`,
		`{"security":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}}`,
		`{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":1}]}`,
		`[]`,
	} {
		b, at := bundleMeta(t, bad)
		if got, err := labels.BundleLabels(b, at); err == nil {
			t.Errorf("%s: read as %v, want an error (it withholds)", bad, got)
		}
	}
}

// TestInBundleBeforePropagationQA36E: a stored Bundle's labels given to a
// copy in it (Copy.Labels) are its own, with their reason, and pass along
// the references of its Bundle's other copies as its own labels do.
func TestInBundleBeforePropagationQA36E(t *testing.T) {
	t.Parallel()
	const cond = `{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},"code":{"text":"Opioid use disorder"}}`
	const stmt = `{"resourceType":"MedicationStatement","id":"ms1","status":"active","subject":{"reference":"Patient/p1"},"medicationCodeableConcept":{"text":"a pill"},"reasonReference":[{"reference":"Condition/c1"}]}`
	out, err := labels.Default().LabelAllResolvingCopies([][]byte{[]byte(cond), []byte(stmt)}, true, nil,
		[]labels.Copy{{Scope: 7, Labels: labels.NewSet(labels.SUD, labels.ProcessInline)}, {Scope: 7}})
	if err != nil {
		t.Fatal(err)
	}
	if !out[0].Labels.Has(labels.SUD) || out[0].Labels.Has(labels.ProcessInline) || !out[0].Changed {
		t.Fatalf("the copy's labels: %v (changed %v), want SUD and no obligation", out[0].Labels, out[0].Changed)
	}
	found := false
	for _, r := range out[0].Reasons {
		found = found || (r.Label == labels.SUD && r.Rule == labels.BundleRule)
	}
	if !found {
		t.Fatalf("no reason names the Bundle: %+v", out[0].Reasons)
	}
	if !out[1].Labels.Has(labels.SUD) {
		t.Fatalf("the statement whose reason is the copy did not inherit SUD: %v", out[1].Labels)
	}
}
