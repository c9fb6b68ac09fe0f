package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestCutReportLosesItsRendering: a DiagnosticReport whose HIV result the
// labeller cut (a mixed report, not itself sensitive) kept its
// presentedForm, the report rendered for people, whose data
// ("HIV viral load", base64) names the result the caller was refused.
// Like the narrative, attachment data goes when anything was cut.
func TestCutReportLosesItsRendering(t *testing.T) {
	t.Parallel()
	const rendering = "SElWIHZpcmFsIGxvYWQ=" // "HIV viral load"
	dr := `{"resourceType":"DiagnosticReport","id":"d1","status":"final","code":{"text":"panel"},"subject":{"reference":"Patient/p1"},
	"result":[{"reference":"Observation/a"},{"reference":"Observation/hiv"}],
	"presentedForm":[{"contentType":"text/plain","data":"` + rendering + `","title":"report"}]}`
	obsA := `{"resourceType":"Observation","id":"a","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"718-7"}]},"subject":{"reference":"Patient/p1"}}`
	obsH := `{"resourceType":"Observation","id":"hiv","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"25836-8"}]},"subject":{"reference":"Patient/p1"}}`
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "Observation/a"):
			fhirJSONHandler(200, obsA)(w, r)
		case strings.HasSuffix(r.URL.Path, "Observation/hiv"):
			fhirJSONHandler(200, obsH)(w, r)
		case strings.HasSuffix(r.URL.Path, "/Observation"):
			fhirJSONHandler(200, bundle(h0base(r), 2, false, obsA, obsH))(w, r)
		default:
			fhirJSONHandler(200, dr)(w, r)
		}
	})
	resp, body := h.get("/fhir/DiagnosticReport/d1", tokOther)
	if resp.StatusCode != 200 || strings.Contains(body, "Observation/hiv") || !strings.Contains(body, `"code":"REDACTED"`) {
		t.Fatalf("the HIV result was not cut: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, rendering) {
		t.Errorf("the cut report keeps its rendering: %s", body)
	}
	// its title goes with the cut too (QA round 21: attachment_qa21b_test.go)
	if !strings.Contains(body, `"presentedForm":[{"contentType":"text/plain"}]`) {
		t.Errorf("the attachment's contentType should stay, alone: %s", body)
	}
	// whoever may see the result gets the report whole
	if _, body := h.get("/fhir/DiagnosticReport/d1", tokConsented); !strings.Contains(body, rendering) || strings.Contains(body, "REDACTED") {
		t.Errorf("consented caller: %s", body)
	}
}

// TestSensitiveAttachmentDataWithoutContentType: inline data of a sensitive
// resource is removed, yet an attachment without a contentType (FHIR's
// att-1 requires one, a server need not enforce it) or with an escaped
// "data" key went out whole. SampledData and Signature keep their data.
func TestSensitiveAttachmentDataWithoutContentType(t *testing.T) {
	t.Parallel()
	const restricted = `"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]}`
	for name, c := range map[string]struct{ body, gone, kept string }{
		"no contentType": {`{"resourceType":"DocumentReference","id":"r1",` + restricted + `,"status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":{"data":"U0VDUkVU","title":"t"}}]}`, "U0VDUkVU", `"title":"t"`},
		"escaped data":   {`{"resourceType":"DocumentReference","id":"r1",` + restricted + `,"status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":{"contentType":"text/plain","d\u0061ta":"U0VDUkVU"}}]}`, "U0VDUkVU", `"contentType":"text/plain"`},
		// a provision's data is references, not an attachment: it stays,
		// or the provision would read as covering everything
		"consent provision": {`{"resourceType":"Consent","id":"r1",` + restricted + `,"status":"active","scope":{"text":"privacy"},"category":[{"text":"c"}],"patient":{"reference":"Patient/p1"},"sourceAttachment":{"data":"U0VDUkVU"},"provision":{"type":"deny","data":[{"meaning":"instance","reference":{"reference":"Condition/c1"}}]}}`, "U0VDUkVU", `"data":[{"meaning":"instance"`},
		"sampled data":      {`{"resourceType":"Observation","id":"r1",` + restricted + `,"status":"final","code":{"text":"ecg"},"subject":{"reference":"Patient/p1"},"valueSampledData":{"origin":{"value":0},"period":1,"dimensions":1,"data":"1 2 3"},"valueAttachment":{"data":"U0VDUkVU"}}`, "U0VDUkVU", `"data":"1 2 3"`},
	} {
		h := newHarness(t, fhirJSONHandler(200, c.body))
		resp, body := h.get("/fhir/DocumentReference/r1", tokConsented)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", name, resp.StatusCode, body)
		}
		if strings.Contains(body, c.gone) || !strings.Contains(body, `"code":"REDACTED"`) || !strings.Contains(body, c.kept) {
			t.Errorf("%s: want %s gone, %s kept and REDACTED: %s", name, c.gone, c.kept, body)
		}
	}
}
