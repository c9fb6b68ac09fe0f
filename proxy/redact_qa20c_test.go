package proxy

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/internal/fjson"
)

// QA round 20 (area C): what a redacted or masked resource still says.

func inlineLabel(code string) string {
	return `"extension":[{"url":"http://hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-inline-sec-label","valueCoding":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"` + code + `"}}]`
}

const processInlineMeta = `"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PROCESSINLINELABEL"}]}`

// TestPrimitiveLabelCutsItsValue: FHIR JSON keeps a primitive's extensions
// in "_x" beside its value in "x" (element i of "_given" beside element i
// of "given"), so an inline label there labels the value. The cut removed
// the extension object only and left the labelled value in the answer:
// "valueString":"SECRET-..." went out to a caller denied HIV data, with
// REDACTED beside it.
func TestPrimitiveLabelCutsItsValue(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, path, body string
		keep             []string
	}{
		{"value", "/fhir/Observation/o1", `{"resourceType":"Observation","id":"o1",` + processInlineMeta + `,"status":"final","code":{"text":"note"},"subject":{"reference":"Patient/p1"},"valueString":"SECRET-HIV-POSITIVE","_valueString":{` + inlineLabel("HIV") + `}}`,
			[]string{`"status":"final"`}},
		{"array element", "/fhir/Patient/p1", `{"resourceType":"Patient","id":"p1",` + processInlineMeta + `,"name":[{"family":"Doe","given":["Ann","SECRET-GIVEN","Bea"],"_given":[null,{` + inlineLabel("HIV") + `},null]}]}`,
			[]string{`"given":["Ann","Bea"]`, `"_given":[null,null]`}},
		{"escaped key", "/fhir/Observation/o1", `{"resourceType":"Observation","id":"o1",` + processInlineMeta + `,"status":"final","code":{"text":"note"},"subject":{"reference":"Patient/p1"},"valu\u0065String":"SECRET-HIV-POSITIVE","\u005fvalueString":{` + inlineLabel("HIV") + `}}`,
			[]string{`"status":"final"`}},
	}
	for _, c := range cases {
		h := newHarness(t, fhirJSONHandler(200, c.body))
		resp, body := h.get(c.path, tokOther)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", c.name, resp.StatusCode, body)
		}
		if strings.Contains(body, "SECRET") || !strings.Contains(body, `"code":"REDACTED"`) {
			t.Errorf("%s: the labelled value is still there, or no REDACTED: %s", c.name, body)
		}
		for _, k := range c.keep {
			if !strings.Contains(body, k) {
				t.Errorf("%s: no %s in %s", c.name, k, body)
			}
		}
		if !json.Valid([]byte(body)) {
			t.Errorf("%s: invalid JSON: %s", c.name, body)
		}
		// the consented caller gets it whole
		if _, body := h.get(c.path, tokConsented); !strings.Contains(body, "SECRET") {
			t.Errorf("%s: consented caller lost the value: %s", c.name, body)
		}
	}
}

// TestPrimitiveLabelMasksItsValue: the same for a mask decision: masking
// "_valueString" removed its extensions and left the value unmasked.
func TestPrimitiveLabelMasksItsValue(t *testing.T) {
	t.Parallel()
	obs := `{"resourceType":"Observation","id":"o1",` + processInlineMeta + `,"status":"final","code":{"text":"note"},"subject":{"reference":"Patient/p1"},
	"valueString":"SECRET-SUD-NOTE","_valueString":{` + inlineLabel("SUD") + `},
	"component":[{"code":{"text":"c"},"valueInteger":42,"_valueInteger":{` + inlineLabel("SUD") + `}},{"code":{"text":"d"},"valueString":"ok"}],
	"note":[{"text":"SECRET-NESTED","_text":{` + inlineLabel("SUD") + `},` + inlineLabel("SUD") + `}]}`
	h := newHarness(t, fhirJSONHandler(200, obs), func(_ *Options, d *Deps) { d.Decider = maskDecider{} })
	resp, body := h.get("/fhir/Observation/o1", tokConsented)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	for _, leak := range []string{"SECRET", "42", `"SUD"`} {
		if strings.Contains(body, leak) {
			t.Errorf("the masked read holds %q: %s", leak, body)
		}
	}
	for _, want := range []string{`"valueString":"masked"`, `"code":"MASKED"`, `"valueString":"ok"`, `"note":[{"text":"masked"}]`} {
		if !strings.Contains(body, want) {
			t.Errorf("no %s in %s", want, body)
		}
	}
	if err := fjson.Validate([]byte(body), 64); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, body)
	}
}
