package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
)

// QA round 28, area B: what the numbering of a Claim, an
// ExplanationOfBenefit or an Encounter told after an element was cut.

const inlineSUDQA28B = `"extension":[{"url":"http://hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-inline-sec-label","valueCoding":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}}]`

// A claim whose first diagnosis (F11.20) is SUD, billed by item 1.
const claimQA28B = `{"resourceType":"Claim","id":"cl1","status":"active","use":"claim",
 "patient":{"reference":"Patient/p1"},
 "careTeam":[{"sequence":1,"provider":{"reference":"Practitioner/doc"}}],
 "diagnosis":[
  {"sequence":1,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}},
  {"sequence":2,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"I10"}]}}
 ],
 "item":[
  {"sequence":1,"careTeamSequence":[1],"diagnosisSequence":[1],"productOrService":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"99213"}]},"net":{"value":100,"currency":"USD"}},
  {"sequence":2,"careTeamSequence":[1],"diagnosisSequence":[2],"productOrService":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"99214"}]},"net":{"value":50,"currency":"USD"}}
 ],
 "total":{"value":150,"currency":"USD"}}`

func decodeQA28B(t *testing.T, body string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, body)
	}
	return m
}

func jsonQA28B(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("test JSON %q: %v", s, err)
	}
	return v
}

// The SUD diagnosis cut from a claim left diagnosis 2 alone (the first was
// withheld), item 1 still pointing at diagnosis 1 and billed 100 for it,
// and a total of 150 above the 50 of the items shown. Now the item billed
// for the cut diagnosis goes with it, the diagnoses left are numbered 1..
// with the pointers following, and the total goes. Items keep their
// numbers: a ClaimResponse names them by number.
func TestClaimCutLeavesNoNumberingTellQA28B(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, claimQA28B))
	resp, body := h.get("/fhir/Claim/cl1", tokOther)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	for _, leak := range []string{"F11.20", "99213", `"value":100`, `"value":150`} {
		if strings.Contains(body, leak) {
			t.Errorf("the cut claim still holds %s: %s", leak, body)
		}
	}
	m := decodeQA28B(t, body)
	want := map[string]string{
		"diagnosis": `[{"sequence":1,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"I10"}]}}]`,
		"item":      `[{"sequence":2,"careTeamSequence":[1],"diagnosisSequence":[1],"productOrService":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"99214"}]},"net":{"value":50,"currency":"USD"}}]`,
		"careTeam":  `[{"sequence":1,"provider":{"reference":"Practitioner/doc"}}]`,
	}
	for k, w := range want {
		if !reflect.DeepEqual(m[k], jsonQA28B(t, w)) {
			t.Errorf("%s: got %v, want %s", k, m[k], w)
		}
	}
	if _, ok := m["total"]; ok {
		t.Errorf("the total of the items before the cut stayed: %v", m["total"])
	}
	if n := len(h.ledger.entries); n != 1 || len(h.ledger.entries[0].Redacted) != 1 {
		t.Errorf("ledger: %+v", h.ledger.entries)
	}

	// The same in a searchset.
	hb := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		fhirJSONHandler(200, bundle(h0base(r), 1, false, claimQA28B))(w, r)
	})
	resp, bb := hb.get("/fhir/Claim?patient=p1", tokOther)
	if resp.StatusCode != 200 || strings.Contains(bb, "99213") || strings.Contains(bb, `"value":150`) || !strings.Contains(bb, `{"sequence":1,"diagnosisCodeableConcept"`) {
		t.Errorf("searchset: %d %s", resp.StatusCode, bb)
	}

	// Whoever may read it all gets it as stored.
	resp, body = h.get("/fhir/Claim/cl1", tokConsented)
	if resp.StatusCode != 200 || !strings.Contains(body, "F11.20") || !strings.Contains(body, `"value":150`) || !strings.Contains(body, `"diagnosisSequence":[1]`) {
		t.Errorf("consented: %d %s", resp.StatusCode, body)
	}
}

// An EOB: the SUD diagnosis is the second; item 1 is billed for it and
// points at note 1, which an addItem also follows; item 2 points at
// diagnosis 1 and notes 1 and 2.
const eobQA28B = `{"resourceType":"ExplanationOfBenefit","id":"e1","status":"active","use":"claim","outcome":"complete",
 "patient":{"reference":"Patient/p1"},
 "diagnosis":[
  {"sequence":1,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"I10"}]}},
  {"sequence":2,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}},
  {"sequence":3,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"J45.909"}]}}
 ],
 "item":[
  {"sequence":1,"diagnosisSequence":[2],"noteNumber":[1],"productOrService":{"text":"counselling visit"},"net":{"value":100,"currency":"USD"}},
  {"sequence":2,"diagnosisSequence":[1,3],"noteNumber":[1,2],"productOrService":{"text":"office visit"},"net":{"value":50,"currency":"USD"}}
 ],
 "addItem":[{"itemSequence":[1],"productOrService":{"text":"take-home dose"},"net":{"value":30,"currency":"USD"}}],
 "processNote":[{"number":1,"text":"methadone programme rate"},{"number":2,"text":"standard rate"},{"text":"opioid treatment programme bundle applied"},{"number":3,"text":"take-home doses billed apart"}],
 "adjudication":[{"category":{"text":"denied"},"reason":{"text":"methadone not covered"},"amount":{"value":30,"currency":"USD"}}],
 "total":[{"category":{"text":"submitted"},"amount":{"value":180,"currency":"USD"}}],
 "payment":{"amount":{"value":180,"currency":"USD"}}}`

func TestEOBCutLeavesNoNumberingTellQA28B(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, eobQA28B))
	resp, body := h.get("/fhir/ExplanationOfBenefit/e1", tokOther)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	for _, leak := range []string{"F11.20", "counselling", "take-home", "methadone", "opioid", `"value":180`, `"value":100`, `"value":30`} {
		if strings.Contains(body, leak) {
			t.Errorf("the cut EOB still holds %s: %s", leak, body)
		}
	}
	m := decodeQA28B(t, body)
	want := map[string]string{
		"diagnosis": `[{"sequence":1,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"I10"}]}},` +
			`{"sequence":2,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"J45.909"}]}}]`,
		"item":        `[{"sequence":2,"diagnosisSequence":[1,2],"noteNumber":[1],"productOrService":{"text":"office visit"},"net":{"value":50,"currency":"USD"}}]`,
		"processNote": `[{"number":1,"text":"standard rate"}]`,
	}
	for k, w := range want {
		if !reflect.DeepEqual(m[k], jsonQA28B(t, w)) {
			t.Errorf("%s: got %v, want %s", k, m[k], w)
		}
	}
	for _, k := range []string{"addItem", "total", "payment", "adjudication"} {
		if _, ok := m[k]; ok {
			t.Errorf("%s stayed: %v", k, m[k])
		}
	}
}

// An Encounter whose principal diagnosis (rank 1, an inline SUD label) is
// cut kept ranks 2, 2 and 5: that the principal one was withheld.
func TestEncounterCutDiagnosisRanksQA28B(t *testing.T) {
	t.Parallel()
	enc := `{"resourceType":"Encounter","id":"en1","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/p1"},
 "diagnosis":[
  {` + inlineSUDQA28B + `,"condition":{"display":"opioid use disorder"},"rank":1},
  {"condition":{"display":"hypertension"},"rank":2},
  {"condition":{"display":"asthma"},"rank":2},
  {"condition":{"display":"back pain"},"rank":5}
 ]}`
	h := newHarness(t, fhirJSONHandler(200, enc))
	resp, body := h.get("/fhir/Encounter/en1", tokOther)
	if resp.StatusCode != 200 || strings.Contains(body, "opioid") || !strings.Contains(body, "REDACTED") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	m := decodeQA28B(t, body)
	want := `[{"condition":{"display":"hypertension"},"rank":1},{"condition":{"display":"asthma"},"rank":1},{"condition":{"display":"back pain"},"rank":2}]`
	if !reflect.DeepEqual(m["diagnosis"], jsonQA28B(t, want)) {
		t.Errorf("diagnosis: got %v, want %s", m["diagnosis"], want)
	}
}

// A careTeam member cut by an inline label takes along the items it
// performed, and a claim whose numbering cannot be read (two diagnoses
// numbered 1) while a numbered element was cut is withheld, answering as a
// missing one.
func TestClaimCutCareTeamAndUnreadableNumberingQA28B(t *testing.T) {
	t.Parallel()
	ct := `{"resourceType":"Claim","id":"cl2","status":"active","use":"claim","patient":{"reference":"Patient/p1"},
 "careTeam":[{` + inlineSUDQA28B + `,"sequence":1,"provider":{"display":"Dr Addiction"}},{"sequence":2,"provider":{"display":"Dr Heart"}}],
 "item":[{"sequence":1,"careTeamSequence":[1],"productOrService":{"text":"a"}},{"sequence":2,"careTeamSequence":[2],"productOrService":{"text":"b"}}]}`
	h := newHarness(t, fhirJSONHandler(200, ct))
	resp, body := h.get("/fhir/Claim/cl2", tokOther)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	m := decodeQA28B(t, body)
	if w := `[{"sequence":2,"careTeamSequence":[1],"productOrService":{"text":"b"}}]`; !reflect.DeepEqual(m["item"], jsonQA28B(t, w)) {
		t.Errorf("item: got %v, want %s", m["item"], w)
	}
	if w := `[{"sequence":1,"provider":{"display":"Dr Heart"}}]`; !reflect.DeepEqual(m["careTeam"], jsonQA28B(t, w)) {
		t.Errorf("careTeam: got %v, want %s", m["careTeam"], w)
	}

	dup := strings.Replace(claimQA28B, `"sequence":2,"diagnosisCodeableConcept"`, `"sequence":1,"diagnosisCodeableConcept"`, 1)
	h = newHarness(t, fhirJSONHandler(200, dup))
	resp, body = h.get("/fhir/Claim/cl1", tokOther)
	if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "I10") {
		t.Errorf("unreadable numbering: %d %s", resp.StatusCode, body)
	}
}

// A caller that read the claim renumbered and writes it back stores its
// change over the stored numbering: the numbers it was shown were the
// proxy's, as a masked value is, and what was cut (the item, the total)
// comes back.
func TestUpdateOfRenumberedClaimQA28B(t *testing.T) {
	t.Parallel()
	stored := strings.Replace(claimQA28B, `"id":"cl1",`, `"id":"cl1","meta":{"versionId":"1"},`, 1)
	up := newStoreUpstream(map[string]string{"Claim/cl1": stored, "Patient/p1": `{"resourceType":"Patient","id":"p1"}`, "Practitioner/doc": `{"resourceType":"Practitioner","id":"doc"}`})
	h := newHarness(t, up.handler)
	resp, view := h.get("/fhir/Claim/cl1", tokOtherWriter)
	if resp.StatusCode != 200 || strings.Contains(view, "F11.20") || !strings.Contains(view, `"diagnosisSequence":[1]`) {
		t.Fatalf("read: %d %s", resp.StatusCode, view)
	}
	edited := strings.Replace(view, `"use":"claim"`, `"use":"preauthorization"`, 1)
	resp, body := h.send(http.MethodPut, "/fhir/Claim/cl1", tokOtherWriter, "application/fhir+json", edited)
	if resp.StatusCode != 200 {
		t.Fatalf("update: %d %s", resp.StatusCode, body)
	}
	m := decodeQA28B(t, up.get("Claim/cl1"))
	orig := decodeQA28B(t, stored)
	for _, k := range []string{"diagnosis", "item", "total", "careTeam"} {
		if !reflect.DeepEqual(m[k], orig[k]) {
			t.Errorf("stored %s: %v, want %v", k, m[k], orig[k])
		}
	}
	if m["use"] != "preauthorization" {
		t.Errorf("the caller's change was not stored: %v", m["use"])
	}
}

// A claim whose only diagnosis is SUD and whose only item is billed for
// it: the labeller found an ordinary item beside the SUD diagnosis and cut
// the diagnosis alone; with the item following it, nothing of the claim
// would be left but its shell, which tells the story as a claim all SUD
// would (the labeller labels one whole). It is withheld, as a missing one.
func TestClaimWithNothingLeftIsWithheldQA28B(t *testing.T) {
	t.Parallel()
	cl := `{"resourceType":"Claim","id":"cl3","status":"active","use":"claim","patient":{"reference":"Patient/p1"},
 "diagnosis":[{"sequence":1,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}],
 "item":[{"sequence":1,"diagnosisSequence":[1],"productOrService":{"text":"visit"},"net":{"value":100,"currency":"USD"}}],
 "total":{"value":100,"currency":"USD"}}`
	h := newHarness(t, fhirJSONHandler(200, cl))
	resp, body := h.get("/fhir/Claim/cl3", tokOther)
	if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "visit") {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Claim/cl3", tokConsented); resp.StatusCode != 200 || !strings.Contains(body, "F11.20") {
		t.Errorf("consented: %d %s", resp.StatusCode, body)
	}
}

// A claim whose first item is masked (its amounts removed, mask.go) kept
// its total: 150 less the 50 of the item shown is the 100 of the masked
// one. With an item masked or cut, the totals go; a masked diagnosis
// leaves them.
func TestClaimMaskedItemLosesTotalQA28B(t *testing.T) {
	t.Parallel()
	cl := `{"resourceType":"Claim","id":"cl4","status":"active","use":"claim","patient":{"reference":"Patient/p1"},
 "item":[{` + inlineSUDQA28B + `,"sequence":1,"productOrService":{"text":"methadone"},"net":{"value":100,"currency":"USD"}},
  {"sequence":2,"productOrService":{"text":"bp"},"net":{"value":50,"currency":"USD"}}],
 "total":{"value":150,"currency":"USD"},"_total":{"id":"t"}}`
	h := newHarness(t, fhirJSONHandler(200, cl), func(_ *Options, d *Deps) { d.Decider = maskDecider{} })
	resp, body := h.get("/fhir/Claim/cl4", tokConsented)
	if resp.StatusCode != 200 || !strings.Contains(body, `"MASKED"`) || !strings.Contains(body, `"value":50`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	for _, leak := range []string{"methadone", `"value":100`, `"value":150`, `"total"`, `"_total"`} {
		if strings.Contains(body, leak) {
			t.Errorf("the masked claim holds %s: %s", leak, body)
		}
	}
	h = newHarness(t, fhirJSONHandler(200, mixedEOB), func(_ *Options, d *Deps) { d.Decider = maskDecider{} })
	if resp, body := h.get("/fhir/ExplanationOfBenefit/eob1", tokConsented); resp.StatusCode != 200 || !strings.Contains(body, `"value":60.40`) {
		t.Errorf("a masked diagnosis: %d %s", resp.StatusCode, body)
	}
}

// denyMaskDecider denies SUD and masks PSY.
type denyMaskDecider struct{}

func (denyMaskDecider) Decide(_ context.Context, in policy.Input) (policy.Decision, error) {
	switch {
	case slices.Contains(in.Item.Labels, labels.SystemActCode+"|SUD"):
		return policy.Decision{Effect: policy.Deny, Reasons: []policy.Reason{{Rule: "t", Message: "t"}}}, nil
	case slices.Contains(in.Item.Labels, labels.SystemActCode+"|PSY"):
		return policy.Decision{Effect: policy.Mask, Mask: []string{labels.SystemActCode + "|PSY"}}, nil
	}
	return policy.Decision{Effect: policy.Permit}, nil
}
func (denyMaskDecider) Revision() string { return "deny-mask" }

// A claim with one diagnosis cut and another masked: nothing was followed
// or renumbered while anything was masked, so the item billed for the cut
// diagnosis stayed, pointing at it.
func TestClaimCutBesideMaskQA28B(t *testing.T) {
	t.Parallel()
	inlinePSY := strings.Replace(inlineSUDQA28B, `"SUD"`, `"PSY"`, 1)
	cl := `{"resourceType":"Claim","id":"cl5","status":"active","use":"claim","patient":{"reference":"Patient/p1"},
 "diagnosis":[{` + inlineSUDQA28B + `,"sequence":1,"diagnosisCodeableConcept":{"text":"opioid dependence"}},
  {` + inlinePSY + `,"sequence":2,"diagnosisCodeableConcept":{"text":"depression"}},
  {"sequence":3,"diagnosisCodeableConcept":{"text":"hypertension"}}],
 "item":[{"sequence":1,"diagnosisSequence":[1],"productOrService":{"text":"counselling"},"net":{"value":100,"currency":"USD"}},
  {"sequence":2,"diagnosisSequence":[3],"productOrService":{"text":"bp"},"net":{"value":50,"currency":"USD"}}]}`
	h := newHarness(t, fhirJSONHandler(200, cl), func(_ *Options, d *Deps) { d.Decider = denyMaskDecider{} })
	resp, body := h.get("/fhir/Claim/cl5", tokOther)
	if resp.StatusCode != 200 || !strings.Contains(body, `"MASKED"`) || !strings.Contains(body, `"REDACTED"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	for _, leak := range []string{"opioid", "counselling", "depression", `"value":100`} {
		if strings.Contains(body, leak) {
			t.Errorf("holds %s: %s", leak, body)
		}
	}
	m := decodeQA28B(t, body)
	if w := `[{"sequence":2,"diagnosisSequence":[1],"productOrService":{"text":"bp"},"net":{"value":50,"currency":"USD"}}]`; !reflect.DeepEqual(m["item"], jsonQA28B(t, w)) {
		t.Errorf("item: got %v, want %s", m["item"], w)
	}
	if w := `[{"diagnosisCodeableConcept":{"text":"masked"}},{"sequence":1,"diagnosisCodeableConcept":{"text":"hypertension"}}]`; !reflect.DeepEqual(m["diagnosis"], jsonQA28B(t, w)) {
		t.Errorf("diagnosis: got %v, want %s", m["diagnosis"], w)
	}
}
