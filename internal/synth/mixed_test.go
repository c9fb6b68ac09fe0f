package synth

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestMixedClaimsGroundTruth checks every patient with SUD data gets one
// mixed claim, that its strings are where the ground truth says (the
// sensitive ones only in the SUD diagnosis and the narrative), and that
// Generate's output does not change by asking for them.
func TestMixedClaimsGroundTruth(t *testing.T) {
	t.Parallel()
	d := Generate(Options{Seed: 11, Patients: 8})
	before := bytes.Join(d.Raw(), nil)
	ms := d.Mixed()
	if !bytes.Equal(before, bytes.Join(d.Raw(), nil)) {
		t.Fatal("Mixed changed the dataset")
	}
	want := map[string]bool{}
	for _, r := range d.Resources {
		for _, topic := range r.Topics {
			if topic == TopicSUD {
				want[r.Patient] = true
			}
		}
	}
	if len(ms) != len(want) || len(ms) == 0 {
		t.Fatalf("%d mixed resources for %d patients with SUD data", len(ms), len(want))
	}
	for _, m := range ms {
		if !want[m.Patient] || m.Sensitive() || m.Ref() != "ExplanationOfBenefit/"+strings.TrimPrefix(m.Patient, "Patient/")+"-eob-mix" {
			t.Errorf("%s of %s: wrong patient, id or resource topics %v", m.Ref(), m.Patient, m.Topics)
		}
		var eob struct {
			Diagnosis []json.RawMessage `json:"diagnosis"`
			Text      struct{ Div string }
		}
		if err := json.Unmarshal(m.JSON, &eob); err != nil || len(eob.Diagnosis) != 2 {
			t.Fatalf("%s: %v, %d diagnoses", m.Ref(), err, len(eob.Diagnosis))
		}
		// Everything outside the SUD diagnosis and the narrative.
		rest := bytes.Replace(m.JSON, eob.Diagnosis[1], nil, 1)
		var div bytes.Buffer
		enc := json.NewEncoder(&div)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(eob.Text.Div); err != nil {
			t.Fatal(err)
		}
		if rest = bytes.Replace(rest, bytes.TrimSpace(div.Bytes()), nil, 1); len(rest) >= len(m.JSON)-len(eob.Diagnosis[1]) {
			t.Fatalf("%s: narrative not found", m.Ref())
		}
		for _, s := range m.SensitiveElem.Strings {
			if !bytes.Contains(eob.Diagnosis[1], []byte(s)) {
				t.Errorf("%s: %q is not in the SUD diagnosis", m.Ref(), s)
			}
			if bytes.Contains(rest, []byte(s)) {
				t.Errorf("%s: %q occurs outside the SUD diagnosis and narrative", m.Ref(), s)
			}
		}
		for _, s := range m.OrdinaryElem.Strings {
			if !bytes.Contains(eob.Diagnosis[0], []byte(s)) {
				t.Errorf("%s: %q is not in the ordinary diagnosis", m.Ref(), s)
			}
		}
		if len(m.SensitiveElem.Topics) != 1 || m.SensitiveElem.Topics[0] != TopicSUD || len(m.OrdinaryElem.Topics) != 0 {
			t.Errorf("%s: element topics %v / %v", m.Ref(), m.SensitiveElem.Topics, m.OrdinaryElem.Topics)
		}
	}
	if again := d.Mixed(); len(again) != len(ms) || !bytes.Equal(again[0].JSON, ms[0].JSON) {
		t.Error("Mixed is not deterministic")
	}
}
