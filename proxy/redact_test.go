package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
)

// A claim-like resource mixing an ordinary diagnosis (I10) with an SUD one
// (F11.20, not Part 2: a state-law topic that needs consent for every
// purpose), whose narrative names the SUD diagnosis.
const mixedEOB = `{"resourceType":"ExplanationOfBenefit","id":"eob1","status":"active",
 "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">opioid dependence and hypertension</div>"},
 "patient":{"reference":"Patient/p1"},"use":"claim","outcome":"complete",
 "diagnosis":[
  {"sequence":1,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"I10"}]}},
  {"sequence":2,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}
 ],
 "total":[{"category":{"text":"submitted"},"amount":{"value":60.40,"currency":"USD"}}]}`

func TestElementRedaction(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, mixedEOB))

	resp, body := h.get("/fhir/ExplanationOfBenefit/eob1", tokOther)
	if resp.StatusCode != 200 {
		t.Fatalf("other: %d %s", resp.StatusCode, body)
	}
	for _, leak := range []string{"F11.20", "opioid", `"sequence":2`, `"SUD"`} {
		if strings.Contains(body, leak) {
			t.Errorf("the redacted read still holds %q: %s", leak, body)
		}
	}
	if !strings.Contains(body, `"code":"REDACTED"`) || !strings.Contains(body, labelsObservationValue) {
		t.Errorf("no REDACTED integrity label: %s", body)
	}
	if !strings.Contains(body, `"code":"I10"`) || !strings.Contains(body, `"value":60.40`) {
		t.Errorf("ordinary content lost or rewritten: %s", body)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("redacted body is not JSON: %v\n%s", err, body)
	}
	if _, ok := m["text"]; ok {
		t.Errorf("the narrative of a redacted resource stayed: %s", body)
	}
	if d, _ := m["diagnosis"].([]any); len(d) != 1 {
		t.Errorf("diagnoses %v, want the ordinary one", m["diagnosis"])
	}
	if n := len(h.ledger.entries); n != 1 || len(h.ledger.entries[0].Redacted) != 1 {
		t.Errorf("ledger does not record the redaction: %+v", h.ledger.entries)
	}

	resp, body = h.get("/fhir/ExplanationOfBenefit/eob1", tokConsented)
	if resp.StatusCode != 200 || !strings.Contains(body, "F11.20") || !strings.Contains(body, "opioid dependence") {
		t.Fatalf("consented: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, "REDACTED") {
		t.Errorf("nothing was removed, yet REDACTED: %s", body)
	}
}

const labelsObservationValue = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"

func TestElementRedactionInBundle(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		fhirJSONHandler(200, bundle(h0base(r), 2, false, mixedEOB, bpObs))(w, r)
	})
	resp, body := h.get("/fhir/ExplanationOfBenefit?patient=p1", tokOther)
	if resp.StatusCode != 200 || strings.Contains(body, "F11.20") || strings.Contains(body, "opioid") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if !strings.Contains(body, `"value":60.40`) || !strings.Contains(body, "REDACTED") {
		t.Errorf("%s", body)
	}
	if !json.Valid([]byte(body)) {
		t.Fatalf("invalid JSON: %s", body)
	}
}

// h0base is the upstream base as the upstream itself would write it.
func h0base(r *http.Request) string { return "http://" + r.Host + "/fhir/R4" }

func TestPruneEdits(t *testing.T) {
	cases := []struct {
		name, in, want string
		targets        []string // exact substrings of in whose values are removed
	}{
		{"middle of array", `{"a":[1,{"x":1},2]}`, `{"a":[1,2]}`, []string{`{"x":1}`}},
		{"last of array", `{"a":[1, {"x":1}]}`, `{"a":[1]}`, []string{`{"x":1}`}},
		{"first of array", `{"a":[{"x":1} , 2],"b":3}`, `{"a":[2],"b":3}`, []string{`{"x":1}`}},
		{"array emptied", `{"r":"T","a":[{"x":1}],"b":3}`, `{"r":"T","b":3}`, []string{`{"x":1}`}},
		{"last member emptied", `{"r":"T","a":[{"x":1},{"y":2}]}`, `{"r":"T"}`, []string{`{"x":1}`, `{"y":2}`}},
		{"object emptied", `{"r":"T","d":{"text":"q"},"c":1}`, `{"r":"T","c":1}`, []string{`"q"`}},
		{"nested kept", `{"r":"T","d":{"text":"q","k":2}}`, `{"r":"T","d":{"k":2}}`, []string{`"q"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := []byte(c.in)
			var ts []span
			for _, s := range c.targets {
				i := strings.Index(c.in, s)
				ts = append(ts, span{i, i + len(s)})
			}
			edits, err := pruneEdits(b, 0, len(b), ts)
			if err != nil {
				t.Fatal(err)
			}
			edits, err = sortEdits(edits)
			if err != nil {
				t.Fatal(err)
			}
			got, err := fjson.Apply(nil, b, edits)
			if err != nil || string(got) != c.want {
				t.Fatalf("got %s (%v), want %s", got, err, c.want)
			}
		})
	}
	if _, err := pruneEdits([]byte(`{"a":1}`), 0, 7, []span{{0, 7}}); err == nil {
		t.Error("pruning the whole resource succeeded")
	}
}

// A MedicationRequest that contains a Part 2 Condition known only by the
// contained resource's own labels: no code the rules know.
const containerWithPart2 = `{"resourceType":"MedicationRequest","id":"mr1","status":"active","intent":"order",
 "contained":[{"resourceType":"Condition","id":"c1","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}]},"code":{"text":"secret-program-note"}}],
 "subject":{"reference":"Patient/p1"},"medicationCodeableConcept":{"text":"aspirin"},"reasonReference":[{"reference":"#c1"}]}`

func TestContainedDecidedOnItsOwn(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, containerWithPart2))
	resp, body := h.get("/fhir/MedicationRequest/mr1", tokOther)
	if resp.StatusCode != 404 || strings.Contains(body, "secret") {
		t.Fatalf("a container of a withheld Part 2 resource: %d %s", resp.StatusCode, body)
	}
	if body != string(notFoundBody("MedicationRequest", "mr1")) {
		t.Errorf("not the canonical not-found: %s", body)
	}

	resp, body = h.get("/fhir/MedicationRequest/mr1", tokConsented)
	if resp.StatusCode != 200 {
		t.Fatalf("consented: %d %s", resp.StatusCode, body)
	}
	var m struct {
		Meta      struct{ Security []struct{ Code string } }
		Contained []struct {
			Meta struct{ Security []struct{ Code string } }
		}
	}
	if err := json.Unmarshal([]byte(body), &m); err != nil || len(m.Contained) != 1 {
		t.Fatalf("%v %s", err, body)
	}
	codes := func(ss []struct{ Code string }) string {
		var out []string
		for _, s := range ss {
			out = append(out, s.Code)
		}
		return strings.Join(out, ",")
	}
	for name, got := range map[string]string{"container": codes(m.Meta.Security), "contained": codes(m.Contained[0].Meta.Security)} {
		if !strings.Contains(got, "42CFRPart2") || !strings.Contains(got, "NORDSCLCD") {
			t.Errorf("%s meta.security %s, want 42CFRPart2 and NORDSCLCD", name, got)
		}
	}
	if resp.Header.Get(NoticeHeader) == "" {
		t.Error("Part 2 data disclosed in a contained resource without the notice")
	}
}

func TestContainedInSearchset(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		fhirJSONHandler(200, bundle(h0base(r), 2, false, containerWithPart2, bpObs))(w, r)
	})
	_, body := h.get("/fhir/MedicationRequest?subject=p1", tokOther)
	if strings.Contains(body, "secret") || strings.Contains(body, "mr1") || !strings.Contains(body, "bp1") {
		t.Fatalf("%s", body)
	}
}

func TestOperationOutcomeTextStripped(t *testing.T) {
	t.Parallel()
	oo := `{"resourceType":"OperationOutcome","text":{"status":"generated","div":"<div>Patient p1 has F11.20</div>"},"issue":[{"severity":"warning","code":"processing","details":{"coding":[{"system":"http://x","code":"c"}],"text":"Patient p1 has F11.20"},"diagnostics":"row for F11.20 skipped","expression":["Condition.code"]}]}`
	t.Run("body", func(t *testing.T) {
		h := newHarness(t, fhirJSONHandler(200, oo))
		resp, body := h.get("/fhir/Condition/x/$validate", tokOther)
		if resp.StatusCode != 200 || strings.Contains(body, "F11.20") || !strings.Contains(body, `"code":"processing"`) || !strings.Contains(body, `"code":"c"`) {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})
	t.Run("outcome entry", func(t *testing.T) {
		h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
			b := bundle(h0base(r), 1, false, bpObs)
			b = b[:len(b)-2] + `,{"resource":` + oo + `,"search":{"mode":"outcome"}}]}`
			fhirJSONHandler(200, b)(w, r)
		})
		_, body := h.get("/fhir/Observation?subject=p1", tokOther)
		if strings.Contains(body, "F11.20") || !strings.Contains(body, `"mode":"outcome"`) || !json.Valid([]byte(body)) {
			t.Fatalf("%s", body)
		}
	})
	t.Run("batch response outcome", func(t *testing.T) {
		b := `{"resourceType":"Bundle","type":"batch-response","entry":[{"response":{"status":"400 Bad Request","outcome":` + oo + `}}]}`
		h := newHarness(t, fhirJSONHandler(200, b))
		resp, body := h.post("/fhir", tokOther, `{"resourceType":"Bundle","type":"batch","entry":[]}`)
		if strings.Contains(body, "F11.20") || !strings.Contains(body, `"status":"400 Bad Request"`) {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})
}

func TestBatchResponseWithheldAnswersAsMissing(t *testing.T) {
	t.Parallel()
	b := `{"resourceType":"Bundle","type":"batch-response","entry":[
	 {"resource":` + sudCondition + `,"response":{"status":"200 OK","etag":"W/\"3\""}},
	 {"response":{"status":"404 Not Found","outcome":{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found","diagnostics":"Condition/zz9 not found"}]}}},
	 {"resource":` + bpObs + `,"response":{"status":"200 OK"}},
	 {"resource":{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found","diagnostics":"Condition/zz8 not found"}]},"response":{"status":"404"}}]}`
	h := newHarness(t, fhirJSONHandler(200, b))
	_, body := h.post("/fhir", tokOther, `{"resourceType":"Bundle","type":"batch","entry":[]}`)
	var m struct{ Entry []json.RawMessage }
	if err := json.Unmarshal([]byte(body), &m); err != nil || len(m.Entry) != 4 {
		t.Fatalf("entries must keep their positions: %v %s", err, body)
	}
	if string(m.Entry[0]) != string(goneEntry) || string(m.Entry[1]) != string(goneEntry) || string(m.Entry[3]) != string(goneEntry) {
		t.Errorf("withheld %s and missing %s, %s differ", m.Entry[0], m.Entry[1], m.Entry[3])
	}
	if strings.Contains(body, sudMarker) || !strings.Contains(string(m.Entry[2]), "bp1") {
		t.Errorf("%s", body)
	}
}

func TestHistoryWithheld(t *testing.T) {
	t.Parallel()
	hist := `{"resourceType":"Bundle","type":"history","entry":[
	 {"fullUrl":"Condition/sud1","resource":` + sudCondition + `,"request":{"method":"PUT","url":"Condition/sud1"}},
	 {"request":{"method":"DELETE","url":"Condition/sud1"},"response":{"status":"204"}},
	 {"resource":` + bpObs + `,"request":{"method":"PUT","url":"Observation/bp1"}},
	 {"request":{"method":"DELETE","url":"Observation/bp1/_history/2"}}]}`
	h := newHarness(t, currentReads(fhirJSONHandler(200, hist), map[string]string{"Condition/sud1": sudCondition, "Observation/bp1": ""}))
	_, body := h.get("/fhir/_history", tokOther)
	if strings.Contains(body, "sud1") || strings.Contains(body, sudMarker) {
		t.Fatalf("history names a withheld resource: %s", body)
	}
	if strings.Count(body, "bp1") < 2 {
		t.Errorf("the ordinary resource's deletion was dropped: %s", body)
	}

	one := `{"resourceType":"Bundle","type":"history","total":1,"entry":[{"resource":` + sudCondition + `}]}`
	// The proxy reads the current version first (guardInstance); it is
	// withheld, so the history answers as for a missing resource.
	denied := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/_history") {
			fhirJSONHandler(200, one)(w, r)
			return
		}
		fhirJSONHandler(200, sudCondition)(w, r)
	})
	missing := newHarness(t, fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`))
	r1, b1 := denied.get("/fhir/Condition/sud1/_history", tokOther)
	r2, b2 := missing.get("/fhir/Condition/sud1/_history", tokOther)
	r1.Header.Del("Date")
	r2.Header.Del("Date")
	r1.Header.Del("X-Request-Id")
	r2.Header.Del("X-Request-Id")
	if r1.StatusCode != 404 || r1.StatusCode != r2.StatusCode || b1 != b2 || !equalHeaders(r1.Header, r2.Header) {
		t.Fatalf("instance history withheld %d %v %s\nmissing %d %v %s", r1.StatusCode, r1.Header, b1, r2.StatusCode, r2.Header, b2)
	}
}

func TestTotalDecrement(t *testing.T) {
	t.Parallel()
	handler := func(w http.ResponseWriter, r *http.Request) {
		fhirJSONHandler(200, bundle(h0base(r), 2, false, sudCondition, bpObs))(w, r)
	}
	omit := newHarness(t, handler, func(o *Options, _ *Deps) { o.Total = TotalOmit })
	if _, body := omit.get("/fhir/Condition?subject=p1", tokOther); strings.Contains(body, `"total"`) {
		t.Errorf("omit: total stayed although an entry was withheld: %s", body)
	}
	dec := newHarness(t, handler) // the default
	if _, body := dec.get("/fhir/Condition?subject=p1", tokOther); !strings.Contains(body, `"total":1,`) {
		t.Errorf("decrement: %s", body)
	}
	// A search whose only match is withheld answers as one that matched
	// nothing: "total": 0 both (QA: the omitted total told them apart).
	only := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		fhirJSONHandler(200, bundle(h0base(r), 1, false, sudCondition))(w, r)
	})
	none := newHarness(t, fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","total":0}`))
	_, b1 := only.get("/fhir/Condition?subject=p1&code=F11.20", tokOther)
	_, b2 := none.get("/fhir/Condition?subject=p1&code=F11.20", tokOther)
	if !strings.Contains(b1, `"total":0`) || b1 != b2 {
		t.Errorf("withheld-only %s\nno match %s", b1, b2)
	}
	paged := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		fhirJSONHandler(200, bundle(h0base(r), 5, true, sudCondition, bpObs))(w, r)
	}, func(o *Options, _ *Deps) { o.Total = TotalDecrement })
	if _, body := paged.get("/fhir/Condition?subject=p1", tokOther); strings.Contains(body, `"total"`) {
		t.Errorf("decrement with more pages must omit: %s", body)
	}
	// An include entry is not a match: withheld or not, it does not count.
	inc := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		b := bundle(h0base(r), 1, false, bpObs)
		b = b[:len(b)-2] + `,{"resource":` + sudCondition + `,"search":{"mode":"include"}}]}`
		fhirJSONHandler(200, b)(w, r)
	}, func(o *Options, _ *Deps) { o.Total = TotalDecrement })
	if _, body := inc.get("/fhir/Observation?subject=p1&_include=x", tokOther); !strings.Contains(body, `"total":1,`) || strings.Contains(body, sudMarker) {
		t.Errorf("decrement with a withheld include: %s", body)
	}
	if err := (Options{Upstream: &url.URL{Scheme: "http", Host: "ehr"}, Total: "fudge"}).Validate(); err == nil {
		t.Error("an unknown enforcement.total passed validation")
	}
}

func TestNestedBundleEntries(t *testing.T) {
	t.Parallel()
	handler := func(w http.ResponseWriter, r *http.Request) {
		doc := `{"resourceType":"Bundle","id":"doc1","type":"document","entry":[{"resource":` + sudCondition + `},{"resource":` + containerWithPart2 + `},{"resource":` + mixedEOB + `}]}`
		fhirJSONHandler(200, bundle(h0base(r), 1, false, doc))(w, r)
	}
	h := newHarness(t, handler)
	_, body := h.get("/fhir/Bundle?type=document", tokOther)
	for _, leak := range []string{sudMarker, "secret", "opioid"} {
		if strings.Contains(body, leak) {
			t.Errorf("nested Bundle leaks %q: %s", leak, body)
		}
	}
	if !strings.Contains(body, "eob1") || !json.Valid([]byte(body)) {
		t.Errorf("%s", body)
	}
}

func TestBinaryAndAttachments(t *testing.T) {
	t.Parallel()
	unlabelled := `{"resourceType":"Binary","id":"bin1","contentType":"application/pdf","data":"JVBERi0xLjQK"}`
	labelled := `{"resourceType":"Binary","id":"bin2","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]},"contentType":"application/pdf","data":"JVBERi0xLjQK"}`
	if resp, body := newHarness(t, fhirJSONHandler(200, unlabelled)).get("/fhir/Binary/bin1", tokOther); resp.StatusCode != 404 || strings.Contains(body, "JVBER") {
		t.Errorf("unclassified Binary: %d %s", resp.StatusCode, body)
	}
	if resp, body := newHarness(t, fhirJSONHandler(200, labelled)).get("/fhir/Binary/bin2", tokOther); resp.StatusCode != 200 || !strings.Contains(body, "JVBER") {
		t.Errorf("classified ordinary Binary: %d %s", resp.StatusCode, body)
	}
	raw := newHarness(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("opioid dependence"))
	}, func(o *Options, _ *Deps) { o.PassthroughContentTypes = []string{"text/plain"} })
	if resp, body := raw.get("/fhir/Binary/bin3", tokOther); resp.StatusCode != 404 || strings.Contains(body, "opioid") {
		t.Errorf("raw Binary: %d %s", resp.StatusCode, body)
	}

	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		dr := `{"resourceType":"DocumentReference","id":"dr1","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]},"status":"current","subject":{"reference":"Patient/p1"},
		 "content":[{"attachment":{"contentType":"application/pdf","data":"U0VDUkVU","url":"` + h.base() + `/Binary/bin9","title":"note"}}]}`
		fhirJSONHandler(200, dr)(w, r)
	})
	// Read by the caller p1's consent names: confidentiality R alone is
	// restricted data, decided by the patient's consent.
	resp, body := h.get("/fhir/DocumentReference/dr1", tokConsented)
	if resp.StatusCode != 200 || strings.Contains(body, "U0VDUkVU") || !strings.Contains(body, "REDACTED") {
		t.Fatalf("sensitive DocumentReference: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, h.base()) || !strings.Contains(body, h.proxy.URL+"/fhir/Binary/bin9") {
		t.Errorf("attachment url not pointed at the proxy: %s", body)
	}
}

func TestParametersResourcesDecided(t *testing.T) {
	t.Parallel()
	params := `{"resourceType":"Parameters","parameter":[{"name":"a","resource":` + bpObs + `},
	 {"name":"b","part":[{"name":"c","resource":` + part2Condition + `}]}]}`
	h := newHarness(t, fhirJSONHandler(200, params))
	resp, body := h.get("/fhir/Patient/p1/$summary", tokOther)
	if resp.StatusCode == 200 || strings.Contains(body, sudMarker) || strings.Contains(body, "p2c") {
		t.Fatalf("Parameters carrying a withheld resource: %d %s", resp.StatusCode, body)
	}
	resp, body = h.get("/fhir/Patient/p1/$summary", tokConsented)
	if resp.StatusCode != 200 || !strings.Contains(body, sudMarker) || strings.Count(body, `"code":"NORDSCLCD"`) < 2 {
		t.Fatalf("consented: %d %s", resp.StatusCode, body)
	}
}

func TestAttachmentDataOfSensitiveResources(t *testing.T) {
	t.Parallel()
	obs := `{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},
	 "code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]},
	 "valueAttachment":{"contentType":"image/png","data":"U0VDUkVU","title":"scan"},
	 "note":[{"text":"data"}]}`
	h := newHarness(t, fhirJSONHandler(200, obs))
	resp, body := h.get("/fhir/Observation/o1", tokConsented)
	if resp.StatusCode != 200 || strings.Contains(body, "U0VDUkVU") || !strings.Contains(body, `"title":"scan"`) || !strings.Contains(body, "REDACTED") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	ordinary := strings.Replace(obs, "F11.20", "I10", 1)
	h = newHarness(t, fhirJSONHandler(200, ordinary))
	if _, body := h.get("/fhir/Observation/o1", tokOther); !strings.Contains(body, "U0VDUkVU") || strings.Contains(body, "REDACTED") {
		t.Fatalf("ordinary attachment data removed: %s", body)
	}
}

// redactDecider answers redact (without SUD) for every class but those
// without any label, which it permits.
type redactDecider struct{}

func (redactDecider) Decide(_ context.Context, in policy.Input) (policy.Decision, error) {
	if len(in.Item.Labels) == 0 {
		return policy.Decision{Effect: policy.Permit}, nil
	}
	return policy.Decision{Effect: policy.Redact, Redact: []string{labels.SystemActCode + "|SUD"}}, nil
}
func (redactDecider) Revision() string { return "redact" }

func TestRedactDecision(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, mixedEOB), func(_ *Options, d *Deps) { d.Decider = redactDecider{} })
	resp, body := h.get("/fhir/ExplanationOfBenefit/eob1", tokConsented)
	if resp.StatusCode != 200 || strings.Contains(body, "F11.20") || !strings.Contains(body, `"code":"I10"`) || !strings.Contains(body, "REDACTED") {
		t.Fatalf("redact decision: %d %s", resp.StatusCode, body)
	}
	// A label to redact on the resource itself: nothing to cut, withheld.
	h = newHarness(t, fhirJSONHandler(200, sudCondition), func(_ *Options, d *Deps) { d.Decider = redactDecider{} })
	if resp, body := h.get("/fhir/Condition/sud1", tokConsented); resp.StatusCode != 404 || strings.Contains(body, sudMarker) {
		t.Fatalf("redact of a resource label: %d %s", resp.StatusCode, body)
	}
}

func TestInsertionBeforeDeletionAtSamePlace(t *testing.T) {
	src := []byte(`{"a":1,"b":2}`)
	del := fjson.Edit{Start: 6, End: 12}                        // `,"b":2`
	ins := fjson.Edit{Start: 6, End: 6, Data: []byte(`,"m":0`)} // after "a":1
	for _, order := range [][]fjson.Edit{{del, ins}, {ins, del}} {
		edits, err := sortEdits(append([]fjson.Edit(nil), order...))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := fjson.Apply(nil, src, edits); string(got) != `{"a":1,"m":0}` {
			t.Errorf("edits %v: %s", order, got)
		}
		var ss []splice
		for _, e := range order {
			ss = append(ss, splice{start: e.Start, end: e.End, data: e.Data})
		}
		got, err := applySplices(nil, src, 0, len(src), ss)
		if err != nil || string(got) != `{"a":1,"m":0}` {
			t.Errorf("splices %v: %s %v", order, got, err)
		}
	}
}

// pathBodies answers a request whose path ends in /<key> of bodies with
// that body, written for the upstream's base (h0base), and 404 otherwise.
func pathBodies(bodies map[string]func(base string) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for path, body := range bodies {
			if strings.HasSuffix(r.URL.Path, "/"+path) {
				fhirJSONHandler(200, body(h0base(r)))(w, r)
				return
			}
		}
		http.NotFound(w, r)
	}
}

// checkKeepGone reports each of keep missing from body, each of gone still
// in it, and a body that is not valid JSON.
func checkKeepGone(t *testing.T, name, body string, keep, gone []string) {
	t.Helper()
	for _, k := range keep {
		if !strings.Contains(body, k) {
			t.Errorf("%s: no %s in %s", name, k, body)
		}
	}
	for _, g := range gone {
		if strings.Contains(body, g) {
			t.Errorf("%s: %s is still there: %s", name, g, body)
		}
	}
	if !json.Valid([]byte(body)) {
		t.Errorf("%s: invalid JSON: %s", name, body)
	}
}
