package proxy

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/policy"
)

// QA round 21 (area B): what a cut leaves behind.

// typeLabelDecider denies an item of type typ carrying label (a refrain
// code, which a container does not take over from its contained
// resources), so that a contained resource with that inline label on its
// top level is permitted as itself and cut as an element of its
// container. Every permitted item of another type gets obligations.
type typeLabelDecider struct {
	typ, label  string
	obligations []string
	mask        bool // mask the label instead of denying
}

func (d typeLabelDecider) Decide(_ context.Context, in policy.Input) (policy.Decision, error) {
	reasons := []policy.Reason{{Rule: "t", Message: "t"}}
	if in.Item.Type == d.typ && slices.Contains(in.Item.Labels, d.label) {
		if d.mask {
			return policy.Decision{Effect: policy.Mask, Mask: []string{d.label}, Reasons: reasons}, nil
		}
		return policy.Decision{Effect: policy.Deny, Reasons: reasons}, nil
	}
	dec := policy.Decision{Effect: policy.Permit, Reasons: reasons}
	if in.Item.Type != d.typ {
		dec.Obligations = d.obligations
	}
	return dec, nil
}
func (typeLabelDecider) Revision() string { return "type-label" }

const noauth = "http://terminology.hl7.org/CodeSystem/v3-ActCode|NOAUTH"

// TestContainedCutLeavesNoReference: a contained resource cut as an element
// left "reference":"#c1" (with its display naming it) in the container and
// in the other contained resources: invalid FHIR, and the display told what
// was cut. Every reference and canonical to it goes, and so do contained
// resources only it referred to; those still referred to, or that refer to
// their container, stay.
func TestContainedCutLeavesNoReference(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, path, body string
		dec              typeLabelDecider
		keep, gone       []string
	}{
		{"references at any depth", "/fhir/Observation/o1", `{"resourceType":"Observation","id":"o1",` + processInlineMeta + `,"status":"final","code":{"text":"panel"},"subject":{"reference":"Patient/p1"},
		"contained":[
		 {"resourceType":"Condition","id":"c1",` + inlineLabel("NOAUTH") + `,"subject":{"reference":"Patient/p1"},"code":{"text":"SECRET-CODE"},"evidence":[{"detail":[{"reference":"#only1"}]}],"stage":[{"assessment":[{"reference":"#back"}]}]},
		 {"resourceType":"Condition","id":"c2","subject":{"reference":"Patient/p1"},"code":{"text":"flu"},"evidence":[{"detail":[{"reference":"\u0023c1","display":"SECRET-EVIDENCE"}]}]},
		 {"resourceType":"Observation","id":"only1","status":"final","code":{"text":"SECRET-ONLY"}},
		 {"resourceType":"Observation","id":"back","status":"final","code":{"text":"refers-back"},"focus":[{"reference":"#"}]},
		 {"resourceType":"Observation","id":"shared","status":"final","code":{"text":"shared-kept"}}],
		"focus":[{"reference":"#c1","display":"SECRET-DISPLAY"},{"reference":"#c2"},{"reference":"#shared"}],
		"hasMember":[{"reference":"#c1"}],"derivedFrom":[{"reference":"#shared"}],
		"extension":[{"url":"http://example.org/x","valueReference":{"reference":"#c1"}},{"url":"http://example.org/y","valueCanonical":"#c1"},{"url":"http://example.org/kept","valueString":"k"}]}`,
			typeLabelDecider{typ: "Observation", label: noauth},
			[]string{`"id":"c2"`, `"reference":"#c2"`, `"id":"back"`, `"reference":"#"`, `"id":"shared"`, `"reference":"#shared"`, "http://example.org/kept", `"code":"REDACTED"`},
			[]string{"SECRET", `"#c1"`, `\u0023c1`, `"#only1"`, `"hasMember"`, "http://example.org/x", "http://example.org/y", "evidence"}},
		{"canonical", "/fhir/Questionnaire/q1", `{"resourceType":"Questionnaire","id":"q1",` + processInlineMeta + `,"status":"active",
		"contained":[{"resourceType":"ValueSet","id":"vs1",` + inlineLabel("NOAUTH") + `,"status":"active","compose":{"include":[{"system":"http://example.org/secret","concept":[{"code":"SECRET-CONCEPT"}]}]}}],
		"item":[{"linkId":"1","type":"choice","text":"pick","answerValueSet":"#vs1"},{"linkId":"2","type":"string","text":"kept"}]}`,
			typeLabelDecider{typ: "Questionnaire", label: noauth},
			[]string{`"linkId":"1"`, `"linkId":"2"`, `"code":"REDACTED"`},
			[]string{"SECRET", `"#vs1"`, "answerValueSet"}},
		{"cut resource with obligations", "/fhir/Observation/o1", `{"resourceType":"Observation","id":"o1",` + processInlineMeta + `,"status":"final","code":{"text":"panel"},"subject":{"reference":"Patient/p1"},
		"contained":[{"resourceType":"Condition","id":"c1",` + inlineLabel("NOAUTH") + `,"code":{"text":"SECRET-CODE"}}],
		"focus":[{"reference":"#c1"}]}`,
			typeLabelDecider{typ: "Observation", label: noauth, obligations: []string{"http://terminology.hl7.org/CodeSystem/v3-ActCode|NORDSCLCD"}},
			[]string{`"code":"REDACTED"`, `"text":"panel"`},
			[]string{"SECRET", `"#c1"`, "contained", "focus"}},
		{"masked contained resource", "/fhir/Observation/o1", `{"resourceType":"Observation","id":"o1",` + processInlineMeta + `,"status":"final","code":{"text":"panel"},"subject":{"reference":"Patient/p1"},
		"contained":[{"resourceType":"Condition","id":"c1",` + inlineLabel("NOAUTH") + `,"code":{"text":"SECRET-CODE"}}],
		"focus":[{"reference":"#c1"}]}`,
			typeLabelDecider{typ: "Observation", label: noauth, mask: true},
			[]string{`"code":"REDACTED"`, `"text":"panel"`},
			[]string{"SECRET", `"#c1"`, "contained", "focus", "masked", "MASKED"}},
	}
	for _, c := range cases {
		h := newHarness(t, fhirJSONHandler(200, c.body), func(_ *Options, d *Deps) { d.Decider = c.dec })
		resp, body := h.get(c.path, tokOther)
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d %s", c.name, resp.StatusCode, body)
			continue
		}
		checkKeepGone(t, c.name, body, c.keep, c.gone)
	}
}

// TestCutReferenceTakesItsContainedTarget: an inline label on a reference
// to a contained resource ("focus":{"reference":"#c1"} labelled HIV) cut
// the reference and left c1, what the label was about, unreferenced in the
// answer. A contained resource that no cut left referenced goes too; one
// the upstream sent unreferenced, and one still referenced, stay.
func TestCutReferenceTakesItsContainedTarget(t *testing.T) {
	t.Parallel()
	obs := `{"resourceType":"Observation","id":"o1",` + processInlineMeta + `,"status":"final","code":{"text":"panel"},"subject":{"reference":"Patient/p1"},
	"contained":[{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},"code":{"text":"SECRET-TARGET"}},
	 {"resourceType":"Condition","id":"c2","subject":{"reference":"Patient/p1"},"code":{"text":"still-referenced"}},
	 {"resourceType":"Condition","id":"c3","subject":{"reference":"Patient/p1"},"code":{"text":"never-referenced"}}],
	"focus":[{"reference":"#c1",` + inlineLabel("HIV") + `},{"reference":"#c2"}]}`
	h := newHarness(t, fhirJSONHandler(200, obs))
	resp, body := h.get("/fhir/Observation/o1", tokOther)
	if resp.StatusCode != 200 || strings.Contains(body, "SECRET") || strings.Contains(body, `"#c1"`) || !strings.Contains(body, `"code":"REDACTED"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	for _, k := range []string{"still-referenced", `"reference":"#c2"`, "never-referenced"} {
		if !strings.Contains(body, k) {
			t.Errorf("no %s in %s", k, body)
		}
	}
	if _, body := h.get("/fhir/Observation/o1", tokConsented); !strings.Contains(body, "SECRET-TARGET") {
		t.Errorf("consented caller lost the target: %s", body)
	}
}
