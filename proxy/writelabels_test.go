package proxy

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

// TestLabelsBelowMetaStay: without the label-writer role, neither an
// update nor a JSON Patch may remove the labels a contained resource or an
// element carries (QA round 13: org-a stripped them, by PUT of its view
// and by patch, and org-b, whose consent denies the data, then read it).
// The role may; a FHIRPath Patch, which ds4p cannot check, needs it.
func TestLabelsBelowMetaStay(t *testing.T) {
	t.Parallel()
	const tokA = "Organization/org-a|TREAT|user/*.*"
	part2 := `{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}`
	sud := `{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}`
	condition := `{"resourceType":"Condition","id":"c1","meta":{"versionId":"1"},"subject":{"reference":"Patient/p1"},"code":{"text":"x"},` +
		`"contained":[{"resourceType":"Observation","id":"o1","meta":{"security":[` + sud + `,` + part2 + `]},"status":"final","code":{"text":"opioid screen"}}]}`
	ext := `{"url":"http://hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-inline-sec-label","valueCoding":` + part2 + `}`
	claim := `{"resourceType":"Claim","id":"cl1","meta":{"versionId":"1"},"status":"active","use":"claim","patient":{"reference":"Patient/p1"},` +
		`"diagnosis":[{"sequence":1,"diagnosisCodeableConcept":{"text":"flu"}},{"extension":[` + ext + `],"sequence":2,"diagnosisCodeableConcept":{"text":"program intake note"}}]}`
	cut := func(view, from, to string) string {
		i := strings.Index(view, from)
		j := strings.Index(view[i+1:], to)
		if i < 0 || j < 0 {
			t.Fatalf("%q or %q not in %s", from, to, view)
		}
		return view[:i] + view[i+1+j:]
	}
	for _, c := range []struct {
		name, path, stored, method, contentType string
		body                                    func(view string) string
		secret                                  string
	}{
		{"contained, PUT", "Condition/c1", condition, "PUT", "application/fhir+json",
			func(v string) string { return cut(v, `"meta":{"security"`, `"status":"final"`) }, "opioid screen"},
		{"contained, patch of its labels", "Condition/c1", condition, "PATCH", "application/json-patch+json",
			func(string) string { return `[{"op":"remove","path":"/contained/0/meta/security"}]` }, "opioid screen"},
		{"contained, patch of its meta", "Condition/c1", condition, "PATCH", "application/json-patch+json",
			func(string) string { return `[{"op":"remove","path":"/contained/0/meta"}]` }, "opioid screen"},
		{"inline, PUT", "Claim/cl1", claim, "PUT", "application/fhir+json",
			func(v string) string {
				return cut(v, `"extension":[{"url":"http://hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-inline-sec-label"`, `"sequence":2`)
			}, "program intake"},
		{"inline, patch", "Claim/cl1", claim, "PATCH", "application/json-patch+json",
			func(string) string { return `[{"op":"remove","path":"/diagnosis/1/extension"}]` }, "program intake"},
		// QA round 14: under a new id, without an id, or moved.
		{"contained, renamed", "Condition/c1", condition, "PUT", "application/fhir+json",
			func(v string) string {
				return strings.Replace(cut(v, `"meta":{"security"`, `"status":"final"`), `"id":"o1"`, `"id":"o2"`, 1)
			}, "opioid screen"},
		{"contained, renamed by patch", "Condition/c1", condition, "PATCH", "application/json-patch+json",
			func(string) string {
				return `[{"op":"replace","path":"/contained/0","value":{"resourceType":"Observation","id":"o2","status":"final","code":{"text":"opioid screen"}}}]`
			}, "opioid screen"},
		{"contained without an id", "Condition/c1", strings.Replace(condition, `"id":"o1",`, ``, 1), "PUT", "application/fhir+json",
			func(v string) string { return cut(v, `"meta":{"security"`, `"status":"final"`) }, "opioid screen"},
		{"inline, moved to another element", "Claim/cl1", claim, "PUT", "application/fhir+json",
			func(v string) string {
				i := strings.Index(v, `{"extension":[{"url":"http://hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-inline-sec-label"`)
				j := strings.Index(v[i:], `"sequence":2`)
				ext := v[i+1 : i+j] // "extension":[...],
				v = v[:i] + "{" + v[i+j:]
				return strings.Replace(v, `{"diagnosisCodeableConcept":{"text":"flu"}`, `{`+ext+`"diagnosisCodeableConcept":{"text":"flu"}`, 1)
			}, "program intake"},
		{"inline, moved by patch", "Claim/cl1", claim, "PATCH", "application/json-patch+json",
			func(string) string {
				return `[{"op":"add","path":"/diagnosis/0/extension","value":[` + ext + `]},{"op":"remove","path":"/diagnosis/1/extension"}]`
			}, "program intake"},
		{"inline, FHIRPath Patch", "Claim/cl1", claim, "PATCH", "application/fhir+json",
			func(string) string {
				return `{"resourceType":"Parameters","parameter":[{"name":"operation","part":[{"name":"type","valueCode":"delete"},{"name":"path","valueString":"Claim.diagnosis[1].extension"}]}]}`
			}, "program intake"},
	} {
		up := newStoreUpstream(map[string]string{c.path: c.stored, "Patient/p1": `{"resourceType":"Patient","id":"p1"}`})
		h := newHarness(t, up.handler)
		if _, b := h.get("/fhir/"+c.path, tokOther); strings.Contains(b, c.secret) {
			t.Fatalf("%s: org-b reads it before: %s", c.name, b)
		}
		_, view := h.get("/fhir/"+c.path, tokA)
		resp, body := h.send(c.method, "/fhir/"+c.path, tokA, c.contentType, c.body(view))
		if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %s, want a refusal", c.name, resp.StatusCode, body)
		}
		if got := up.get(c.path); got != c.stored && !strings.Contains(got, "42CFRPart2") {
			t.Errorf("%s: stored %s", c.name, got)
		}
		if _, b := h.get("/fhir/"+c.path, tokOther); strings.Contains(b, c.secret) {
			t.Errorf("%s: org-b reads it after: %s", c.name, b)
		}
	}
	// An edit that keeps the labels goes through.
	up := newStoreUpstream(map[string]string{"Claim/cl1": claim, "Patient/p1": `{"resourceType":"Patient","id":"p1"}`})
	h := newHarness(t, up.handler)
	if resp, body := h.send("PATCH", "/fhir/Claim/cl1", tokA, "application/json-patch+json", `[{"op":"replace","path":"/status","value":"cancelled"}]`); resp.StatusCode != 200 {
		t.Errorf("a patch that keeps the labels: %d %s", resp.StatusCode, body)
	}
}

// TestBatchWritesOneResourceOnce: entries are checked against the stored
// version each, while the server applies the second write to the first's
// result; two patches that each keep a contained resource's label removed
// it together (QA round 15). A second write of one resource in a batch is
// refused (400) and nothing reaches the server.
func TestBatchWritesOneResourceOnce(t *testing.T) {
	t.Parallel()
	const tokA = "Organization/org-a|TREAT|user/*.*"
	stored := `{"resourceType":"Condition","id":"c1","meta":{"versionId":"1"},"subject":{"reference":"Patient/p1"},"code":{"text":"x"},` +
		`"contained":[{"resourceType":"Observation","id":"o1","meta":{"security":[{"system":"http://example.org/x","code":"local"}]},"status":"final","code":{"text":"a"}},` +
		`{"resourceType":"Observation","id":"o9","status":"final","code":{"text":"b"}}]}`
	up := newStoreUpstream(map[string]string{"Condition/c1": stored, "Condition/c2": strings.Replace(stored, `"id":"c1"`, `"id":"c2"`, 1), "Patient/p1": `{"resourceType":"Patient","id":"p1"}`})
	h := newHarness(t, up.handler)
	bin := func(patch string) string {
		return `{"resourceType":"Binary","contentType":"application/json-patch+json","data":"` + base64.StdEncoding.EncodeToString([]byte(patch)) + `"}`
	}
	add := bin(`[{"op":"add","path":"/contained/0","value":{"resourceType":"Observation","id":"o2","status":"final","code":{"text":"c"}}}]`)
	remove := bin(`[{"op":"remove","path":"/contained/1"}]`)
	for _, urls := range [][2]string{{"Condition/c1", "Condition/c1"}, {"Condition/c1", "/Condition/c1?x=1"}} {
		batch := `{"resourceType":"Bundle","type":"batch","entry":[` +
			`{"resource":` + add + `,"request":{"method":"PATCH","url":"` + urls[0] + `"}},` +
			`{"resource":` + remove + `,"request":{"method":"PATCH","url":"` + urls[1] + `"}}]}`
		if resp, body := h.send("POST", "/fhir", tokA, "application/fhir+json", batch); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "once") {
			t.Errorf("%q: %d %s, want 400", urls, resp.StatusCode, body)
		}
	}
	if got := up.get("Condition/c1"); got != stored {
		t.Errorf("stored: %s", got)
	}
	// Two resources, one write each: fine.
	batch := `{"resourceType":"Bundle","type":"batch","entry":[` +
		`{"resource":` + add + `,"request":{"method":"PATCH","url":"Condition/c1"}},` +
		`{"resource":` + add + `,"request":{"method":"PATCH","url":"Condition/c2"}}]}`
	if resp, body := h.send("POST", "/fhir", tokA, "application/fhir+json", batch); resp.StatusCode != http.StatusOK {
		t.Errorf("one write of each of two resources: %d %s", resp.StatusCode, body)
	}
	// A create whose contained resource carries labels needs the role, as
	// one whose own meta does (QA round 15).
	create := `{"resourceType":"Condition","subject":{"reference":"Patient/p1"},"code":{"text":"x"},"contained":[{"resourceType":"Observation","id":"o1","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]},"status":"final","code":{"text":"a"}}]}`
	if resp, body := h.send("POST", "/fhir/Condition", tokA, "application/fhir+json", create); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a create with a labelled contained resource: %d %s, want 403", resp.StatusCode, body)
	}
}

// An inline label whose extension url is spelt as servers accept it
// (https, a trailing slash), which the labeller reads as the label
// (labels.IsInlineURL), is kept by the write guard as the canonical
// spelling is: removing it needs the label-writer role. Before, the guard
// compared the url exactly and let a patch strip it.
func TestInlineLabelOtherSpellingStays(t *testing.T) {
	t.Parallel()
	const tokA = "Organization/org-a|TREAT|user/*.*"
	part2 := `{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}`
	ext := `{"url":"https://hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-inline-sec-label/","valueCoding":` + part2 + `}`
	claim := `{"resourceType":"Claim","id":"cl1","meta":{"versionId":"1"},"status":"active","use":"claim","patient":{"reference":"Patient/p1"},` +
		`"diagnosis":[{"sequence":1,"diagnosisCodeableConcept":{"text":"flu"}},{"extension":[` + ext + `],"sequence":2,"diagnosisCodeableConcept":{"text":"program intake note"}}]}`
	up := newStoreUpstream(map[string]string{"Claim/cl1": claim, "Patient/p1": `{"resourceType":"Patient","id":"p1"}`})
	h := newHarness(t, up.handler)
	if _, b := h.get("/fhir/Claim/cl1", tokOther); strings.Contains(b, "program intake") {
		t.Fatalf("org-b reads the labelled element before: %s", b)
	}
	resp, body := h.send("PATCH", "/fhir/Claim/cl1", tokA, "application/json-patch+json", `[{"op":"remove","path":"/diagnosis/1/extension"}]`)
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("patch removing the inline label: %d %s, want a refusal", resp.StatusCode, body)
	}
	if _, b := h.get("/fhir/Claim/cl1", tokOther); strings.Contains(b, "program intake") {
		t.Fatalf("org-b reads the labelled element after: %s", b)
	}
}
