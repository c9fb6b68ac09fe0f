package proxy

import (
	"reflect"
	"strings"
	"testing"
)

// QA round 29, area A: a masked numbered element loses its number (the
// mask removes numbers), so pointers at it dangled and what was left was
// numbered with a hole. It is now numbered as a cut one: the elements
// left are numbered 1.. without it, pointers at it go, and it keeps its
// place, masked and unnumbered.
func TestMaskedNumberedElementNumberedAsCutQA29A(t *testing.T) {
	t.Parallel()
	cl := `{"resourceType":"Claim","id":"cl6","status":"active","use":"claim","patient":{"reference":"Patient/p1"},
 "diagnosis":[{"sequence":1,"diagnosisCodeableConcept":{"text":"hypertension"}},
  {` + inlineSUDQA28B + `,"sequence":2,"diagnosisCodeableConcept":{"text":"opioid dependence"}},
  {"sequence":3,"diagnosisCodeableConcept":{"text":"asthma"}}],
 "item":[{"sequence":1,"diagnosisSequence":[1],"productOrService":{"text":"visit"},"net":{"value":100,"currency":"USD"}},
  {"sequence":2,"diagnosisSequence":[3],"productOrService":{"text":"inhaler"},"net":{"value":50,"currency":"USD"}},
  {"sequence":3,"diagnosisSequence":[2],"productOrService":{"text":"counselling"},"net":{"value":70,"currency":"USD"}}]}`
	h := newHarness(t, fhirJSONHandler(200, cl), func(_ *Options, d *Deps) { d.Decider = maskDecider{} })
	resp, body := h.get("/fhir/Claim/cl6", tokConsented)
	if resp.StatusCode != 200 || !strings.Contains(body, `"MASKED"`) || strings.Contains(body, "opioid") || strings.Contains(body, "counselling") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	m := decodeQA28B(t, body)
	want := map[string]string{
		"diagnosis": `[{"sequence":1,"diagnosisCodeableConcept":{"text":"hypertension"}},{"diagnosisCodeableConcept":{"text":"masked"}},
  {"sequence":2,"diagnosisCodeableConcept":{"text":"asthma"}}]`,
		"item": `[{"sequence":1,"diagnosisSequence":[1],"productOrService":{"text":"visit"},"net":{"value":100,"currency":"USD"}},
  {"sequence":2,"diagnosisSequence":[2],"productOrService":{"text":"inhaler"},"net":{"value":50,"currency":"USD"}},
  {"productOrService":{"text":"masked"},"net":{"currency":"masked"}}]`,
	}
	for k, w := range want {
		if !reflect.DeepEqual(m[k], jsonQA28B(t, w)) {
			t.Errorf("%s: got %v, want %s", k, m[k], w)
		}
	}

	// An Encounter's masked diagnosis loses its rank: the ranks left keep
	// their order without it.
	enc := `{"resourceType":"Encounter","id":"en2","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/p1"},
 "diagnosis":[{` + inlineSUDQA28B + `,"condition":{"display":"opioid use disorder"},"rank":1},
  {"condition":{"display":"hypertension"},"rank":2},{"condition":{"display":"asthma"},"rank":3}]}`
	h = newHarness(t, fhirJSONHandler(200, enc), func(_ *Options, d *Deps) { d.Decider = maskDecider{} })
	resp, body = h.get("/fhir/Encounter/en2", tokConsented)
	if resp.StatusCode != 200 || strings.Contains(body, "opioid") {
		t.Fatalf("encounter: %d %s", resp.StatusCode, body)
	}
	w := `[{"condition":{"display":"masked"}},{"condition":{"display":"hypertension"},"rank":1},{"condition":{"display":"asthma"},"rank":2}]`
	if d := decodeQA28B(t, body)["diagnosis"]; !reflect.DeepEqual(d, jsonQA28B(t, w)) {
		t.Errorf("encounter diagnosis: got %v, want %s", d, w)
	}
}

// A caller that read the claim masked and renumbered and writes it back
// stores its change over the stored numbering and the masked diagnosis.
func TestUpdateOfMaskRenumberedClaimQA29A(t *testing.T) {
	t.Parallel()
	stored := `{"resourceType":"Claim","id":"cl7","meta":{"versionId":"1"},"status":"active","use":"claim","patient":{"reference":"Patient/p1"},
 "diagnosis":[{` + inlineSUDQA28B + `,"sequence":1,"diagnosisCodeableConcept":{"text":"opioid dependence"}},
  {"sequence":2,"diagnosisCodeableConcept":{"text":"asthma"}}],
 "item":[{"sequence":1,"diagnosisSequence":[2],"productOrService":{"text":"inhaler"},"net":{"value":50,"currency":"USD"}}]}`
	up := newStoreUpstream(map[string]string{"Claim/cl7": stored, "Patient/p1": `{"resourceType":"Patient","id":"p1"}`})
	h := newHarness(t, up.handler, func(_ *Options, d *Deps) { d.Decider = maskDecider{} })
	resp, view := h.get("/fhir/Claim/cl7", tokWriter)
	if resp.StatusCode != 200 || strings.Contains(view, "opioid") || !strings.Contains(view, `"diagnosisSequence":[1]`) {
		t.Fatalf("read: %d %s", resp.StatusCode, view)
	}
	edited := strings.Replace(view, `"use":"claim"`, `"use":"preauthorization"`, 1)
	resp, body := h.send("PUT", "/fhir/Claim/cl7", tokWriter, "application/fhir+json", edited)
	if resp.StatusCode != 200 {
		t.Fatalf("update: %d %s", resp.StatusCode, body)
	}
	m := decodeQA28B(t, up.get("Claim/cl7"))
	orig := decodeQA28B(t, stored)
	for _, k := range []string{"diagnosis", "item"} {
		if !reflect.DeepEqual(m[k], orig[k]) {
			t.Errorf("stored %s: %v, want %v", k, m[k], orig[k])
		}
	}
	if m["use"] != "preauthorization" {
		t.Errorf("the caller's change was not stored: %v", m["use"])
	}
}
