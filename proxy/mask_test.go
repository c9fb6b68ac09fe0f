package proxy

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
)

// maskDecider permits classes without SUD and answers mask (SUD) for those
// with it; with whole set, it answers mask for every labelled class, so the
// resource's own decision asks for the masking.
type maskDecider struct{ whole bool }

func (m maskDecider) Decide(_ context.Context, in policy.Input) (policy.Decision, error) {
	sud := slices.Contains(in.Item.Labels, labels.SystemActCode+"|SUD")
	if len(in.Item.Labels) == 0 || !sud && !m.whole {
		return policy.Decision{Effect: policy.Permit}, nil
	}
	return policy.Decision{Effect: policy.Mask, Mask: []string{labels.SystemActCode + "|SUD"}}, nil
}
func (maskDecider) Revision() string { return "mask" }

// TestMaskDecision checks that an element to mask stays in place with its
// values masked and its labels unwritten, that the resource carries MASKED
// (and not REDACTED) and loses its narrative, that everything else leaves
// byte for byte, and that a label to mask on the resource itself withholds
// it; both when the element's class and when the resource's class decide
// mask.
func TestMaskDecision(t *testing.T) {
	t.Parallel()
	for _, whole := range []bool{false, true} {
		h := newHarness(t, fhirJSONHandler(200, mixedEOB), func(_ *Options, d *Deps) { d.Decider = maskDecider{whole: whole} })
		resp, body := h.get("/fhir/ExplanationOfBenefit/eob1", tokConsented)
		if resp.StatusCode != 200 {
			t.Fatalf("whole=%v: %d %s", whole, resp.StatusCode, body)
		}
		for _, leak := range []string{"F11.20", "opioid", `"SUD"`, "REDACTED"} {
			if strings.Contains(body, leak) {
				t.Errorf("whole=%v: the masked read holds %q: %s", whole, leak, body)
			}
		}
		for _, want := range []string{`"code":"MASKED"`, `"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"masked"`, `"code":"I10"`, `"value":60.40`, `"sequence":1`} {
			if !strings.Contains(body, want) {
				t.Errorf("whole=%v: no %s in %s", whole, want, body)
			}
		}
		if err := fjson.Validate([]byte(body), 64); err != nil {
			t.Fatalf("whole=%v: masked body is not valid JSON: %v\n%s", whole, err, body)
		}
		var m map[string]any
		_ = json.Unmarshal([]byte(body), &m)
		if _, ok := m["text"]; ok {
			t.Errorf("whole=%v: the narrative of a masked resource stayed", whole)
		}
		if d, _ := m["diagnosis"].([]any); len(d) != 2 {
			t.Errorf("whole=%v: diagnoses %v, want both (one masked)", whole, m["diagnosis"])
		}
		if n := len(h.ledger.entries); n != 1 || len(h.ledger.entries[0].Redacted) != 1 || len(h.ledger.entries[0].Disclosed) != 1 {
			t.Errorf("whole=%v: ledger does not record the masking: %+v", whole, h.ledger.entries)
		}
	}
	// A label to mask on the resource itself: nothing to mask, withheld.
	h := newHarness(t, fhirJSONHandler(200, sudCondition), func(_ *Options, d *Deps) { d.Decider = maskDecider{} })
	if resp, body := h.get("/fhir/Condition/sud1", tokConsented); resp.StatusCode != 404 || strings.Contains(body, sudMarker) {
		t.Fatalf("mask of a resource label: %d %s", resp.StatusCode, body)
	}
}

// TestMaskValue checks the masking of each kind of JSON value.
func TestMaskValue(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{`"secret"`, `"masked"`},
		{`{"system":"urn:mrn","value":"42","use":"official"}`, `{"system":"urn:mrn","value":"masked","use":"masked"}`},
		{`{"coding":[{"system":"s","code":"F11.20","display":"Opioid"}],"text":"Opioid"}`, `{"coding":[{"system":"s","code":"masked","display":"masked"}],"text":"masked"}`},
		{`{"value":1.5,"unit":"mg","extension":[{"url":"u","valueString":"x"}]}`, `{"unit":"masked"}`},
		{`["a",2,"b"]`, `["masked","masked"]`},
		{`{"url":"u","valueCode":"x"}`, `{"url":"u","valueCode":"masked"}`},
		{`{"contentType":"text/plain","url":"https://docs/pat-7/note"}`, `{"contentType":"masked","url":"masked"}`},
	} {
		b := []byte(tt.in)
		edits, gone, err := maskValue(b, 0, len(b))
		if err != nil || gone {
			t.Fatalf("%s: gone %v, %v", tt.in, gone, err)
		}
		sorted, err := sortEdits(edits)
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if got := string(applyRange(nil, b, 0, len(b), sorted)); got != tt.want {
			t.Errorf("%s → %s, want %s", tt.in, got, tt.want)
		}
	}
	for _, in := range []string{`12`, `true`, `null`, `[1,2]`, `{"value":3}`} {
		if _, gone, err := maskValue([]byte(in), 0, len(in)); err != nil || !gone {
			t.Errorf("%s: gone %v, %v; want removed", in, gone, err)
		}
	}
}
