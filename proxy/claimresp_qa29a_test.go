package proxy

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// QA round 29, area A: a ClaimResponse answering a Claim whose SUD item
// was cut.

// The response to claimQA28B (item 1 billed for its SUD diagnosis): item
// 1's adjudication, an added item and an error on item 1, a note item 1
// names and one item 2 names.
const claimRespQA29A = `{"resourceType":"ClaimResponse","id":"cr1","status":"active","type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/claim-type","code":"professional"}]},"use":"claim",
 "patient":{"reference":"Patient/p1"},"created":"2026-01-01","insurer":{"reference":"Organization/ins"},"outcome":"complete",
 "request":{"reference":"Claim/cl1"},
 "item":[
  {"itemSequence":1,"noteNumber":[1],"adjudication":[{"category":{"text":"eligible"},"amount":{"value":100,"currency":"USD"}}]},
  {"itemSequence":2,"noteNumber":[2],"adjudication":[{"category":{"text":"eligible"},"amount":{"value":50,"currency":"USD"}}]}
 ],
 "addItem":[{"itemSequence":[1],"productOrService":{"text":"take-home dose"},"net":{"value":30,"currency":"USD"}}],
 "error":[{"itemSequence":1,"code":{"text":"dose count missing"}}],
 "processNote":[{"number":1,"text":"programme rate"},{"number":2,"text":"standard rate"}],
 "total":[{"category":{"text":"eligible"},"amount":{"value":150,"currency":"USD"}}]}`

// What a caller the Claim's SUD item is cut for gets of the response: item
// 2 and its note, numbered 1, nothing of item 1.
const claimRespCutQA29A = `{"item":[{"itemSequence":2,"noteNumber":[1],"adjudication":[{"category":{"text":"eligible"},"amount":{"value":50,"currency":"USD"}}]}],
 "processNote":[{"number":1,"text":"standard rate"}]}`

func checkClaimRespCutQA29A(t *testing.T, name string, m map[string]any) {
	t.Helper()
	want := decodeQA28B(t, claimRespCutQA29A)
	for _, k := range []string{"item", "processNote"} {
		if !reflect.DeepEqual(m[k], want[k]) {
			t.Errorf("%s: %s: got %v, want %v", name, k, m[k], want[k])
		}
	}
	for _, k := range []string{"addItem", "error", "total"} {
		if _, ok := m[k]; ok {
			t.Errorf("%s: %s stayed: %v", name, k, m[k])
		}
	}
}

// The ClaimResponse took its Claim's element labels whole (SUD), so a
// caller the Claim was disclosed to with its SUD item cut found no
// response at all, while the response, where nothing labelled it, showed
// the adjudication of item 1 the Claim no longer had. Each element of the
// response naming a Claim item now gets that item's labels: it is cut
// with the same decision, and what names it (added item, error, its note)
// and the totals go with it. Read alone (the Claim read from the
// upstream), in a search with the Claim included, and after the Claim
// went through the proxy (the label cache holds it).
func TestClaimResponseCutAsItsClaimQA29A(t *testing.T) {
	t.Parallel()
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fhir/R4/ClaimResponse/cr1":
			fhirJSONHandler(200, claimRespQA29A)(w, r)
		case "/fhir/R4/Claim/cl1":
			fhirJSONHandler(200, claimQA28B)(w, r)
		case "/fhir/R4/ClaimResponse":
			b := bundle(h.base(), 1, false, claimRespQA29A)
			b = strings.TrimSuffix(b, "]}") + `,{"fullUrl":"` + h.base() + `/Claim/cl1","resource":` + claimQA28B + `,"search":{"mode":"include"}}]}`
			fhirJSONHandler(200, b)(w, r)
		default:
			routes(nil)(w, r)
		}
	})
	resp, body := h.get("/fhir/ClaimResponse/cr1", tokOther)
	if resp.StatusCode != 200 {
		t.Fatalf("read: %d %s", resp.StatusCode, body)
	}
	checkClaimRespCutQA29A(t, "read", decodeQA28B(t, body))
	if !strings.Contains(body, `"code":"REDACTED"`) {
		t.Errorf("read: no REDACTED: %s", body)
	}

	resp, body = h.get("/fhir/ClaimResponse?request=Claim/cl1&_include=ClaimResponse:request", tokOther)
	if resp.StatusCode != 200 {
		t.Fatalf("search: %d %s", resp.StatusCode, body)
	}
	var found int
	for _, e := range decodeQA28B(t, body)["entry"].([]any) {
		res := e.(map[string]any)["resource"].(map[string]any)
		if res["resourceType"] == "ClaimResponse" {
			found++
			checkClaimRespCutQA29A(t, "search", res)
		}
		if res["resourceType"] == "Claim" {
			found++
		}
	}
	if found != 2 || strings.Contains(body, "99213") {
		t.Errorf("search: %s", body)
	}

	// The Claim read through the proxy first.
	hc := newHarness(t, routes(map[string]string{"/fhir/R4/ClaimResponse/cr1": claimRespQA29A, "/fhir/R4/Claim/cl1": claimQA28B}),
		func(_ *Options, d *Deps) {
			l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), CacheSize: 100})
			if err != nil {
				t.Fatal(err)
			}
			d.Labeller = l
		})
	if resp, body := hc.get("/fhir/Claim/cl1", tokOther); resp.StatusCode != 200 {
		t.Fatalf("claim: %d %s", resp.StatusCode, body)
	}
	resp, body = hc.get("/fhir/ClaimResponse/cr1", tokOther)
	if resp.StatusCode != 200 {
		t.Fatalf("read after the claim: %d %s", resp.StatusCode, body)
	}
	checkClaimRespCutQA29A(t, "read after the claim", decodeQA28B(t, body))

	// Whoever may read it all gets it as stored, with inline labels.
	resp, body = h.get("/fhir/ClaimResponse/cr1", tokConsented)
	if resp.StatusCode != 200 || !strings.Contains(body, `"value":100`) || !strings.Contains(body, `"value":150`) || !strings.Contains(body, "dose count missing") {
		t.Errorf("consented: %d %s", resp.StatusCode, body)
	}
}

// A caller that read the response cut and writes it back stores its
// change over what was cut and renumbered: the adjudication of item 1,
// its added item and error, the notes and the total come back as stored.
func TestUpdateOfCutClaimResponseQA29A(t *testing.T) {
	t.Parallel()
	stored := strings.Replace(claimRespQA29A, `"id":"cr1",`, `"id":"cr1","meta":{"versionId":"1"},`, 1)
	up := newStoreUpstream(map[string]string{"ClaimResponse/cr1": stored, "Claim/cl1": claimQA28B,
		"Patient/p1": `{"resourceType":"Patient","id":"p1"}`, "Practitioner/doc": `{"resourceType":"Practitioner","id":"doc"}`,
		"Organization/ins": `{"resourceType":"Organization","id":"ins"}`})
	h := newHarness(t, up.handler)
	resp, view := h.get("/fhir/ClaimResponse/cr1", tokOtherWriter)
	if resp.StatusCode != 200 || strings.Contains(view, `"value":100`) {
		t.Fatalf("read: %d %s", resp.StatusCode, view)
	}
	edited := strings.Replace(view, `"outcome":"complete"`, `"outcome":"partial"`, 1)
	resp, body := h.send(http.MethodPut, "/fhir/ClaimResponse/cr1", tokOtherWriter, "application/fhir+json", edited)
	if resp.StatusCode != 200 {
		t.Fatalf("update: %d %s", resp.StatusCode, body)
	}
	m := decodeQA28B(t, up.get("ClaimResponse/cr1"))
	orig := decodeQA28B(t, stored)
	for _, k := range []string{"item", "addItem", "error", "processNote", "total"} {
		if !reflect.DeepEqual(m[k], orig[k]) {
			t.Errorf("stored %s: %v, want %v", k, m[k], orig[k])
		}
	}
	if m["outcome"] != "partial" {
		t.Errorf("the caller's change was not stored: %v", m["outcome"])
	}
}

// A claim whose SUD diagnosis was its principal one: cut alone, what was
// left had no principal diagnosis, which says what kind of diagnosis was
// withheld. The claim, and the response answering it, are withheld as
// missing ones; whoever may read it all gets it.
func TestClaimSensitivePrincipalWithheldQA29A(t *testing.T) {
	t.Parallel()
	principal := `"type":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/ex-diagnosistype","code":"principal"}]}]`
	claim := strings.Replace(claimQA28B, `"code":"F11.20"}]}}`, `"code":"F11.20"}]},`+principal+`}`, 1)
	if claim == claimQA28B {
		t.Fatal("the claim was not edited")
	}
	bodies := map[string]string{"/fhir/R4/Claim/cl1": claim, "/fhir/R4/ClaimResponse/cr1": claimRespQA29A}
	h, missing := newHarness(t, routes(bodies)), newHarness(t, routes(nil))
	for _, path := range []string{"/fhir/Claim/cl1", "/fhir/ClaimResponse/cr1"} {
		r1, b1 := h.get(path, tokOther)
		r2, b2 := missing.get(path, tokOther)
		if r1.StatusCode != http.StatusNotFound || b1 != b2 {
			t.Errorf("%s: %d %s\nwant as missing: %d %s", path, r1.StatusCode, b1, r2.StatusCode, b2)
		}
		if r, b := h.get(path, tokConsented); r.StatusCode != 200 || !strings.Contains(b, `"value":100`) {
			t.Errorf("%s, consented: %d %s", path, r.StatusCode, b)
		}
	}
}
