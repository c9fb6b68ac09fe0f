package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func init() {
	register("HistoryVersionsQA26C", testHistoryVersionsQA26C)
	register("OperationBodyParamsQA26C", testOperationBodyParamsQA26C)
}

// testHistoryVersionsQA26C: a Condition whose second version had an SUD
// code that a third version removed. The caller without consent reads the
// current version, but neither the SUD version (its vread answers as a
// missing version does) nor its code in the history, whose total and
// version list leave it out; a Condition whose only version is SUD and
// was then deleted answers its history exactly as a never-stored one. A
// consented caller sees every version.
func testHistoryVersionsQA26C(t *testing.T, e *env) {
	cond := func(id, code, display string) []byte {
		return []byte(`{"resourceType":"Condition","id":"` + id + `","subject":{"reference":"` + sudPatient + `"},` +
			`"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"` + code + `","display":"` + display + `"}]}}`)
	}
	e.upstream.Put(t, cond("qa26c-h1", "M54.5", "Low back pain"))
	e.upstream.Put(t, cond("qa26c-h1", "F11.20", "Opioid dependence qa26c"))
	e.upstream.Put(t, cond("qa26c-h1", "M54.5", "Low back pain"))
	e.upstream.Put(t, cond("qa26c-h2", "F11.20", "Opioid dependence qa26c"))
	req, _ := http.NewRequest(http.MethodDelete, e.upstream.BaseURL+"/Condition/qa26c-h2", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode >= 300 {
		t.Fatalf("delete at the upstream: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	hist := e.get(t, "/fhir/Condition/qa26c-h1/_history", "consented")
	if hist.Status != http.StatusOK {
		t.Fatalf("consented history: %d %s", hist.Status, hist.Body)
	}
	all := hist.json(t)
	entries, _ := all["entry"].([]any)
	if len(entries) != 3 || !strings.Contains(string(hist.Body), "qa26c") {
		t.Fatalf("consented history: %d entries: %s", len(entries), hist.Body)
	}
	var sudVersion string
	for _, en := range entries {
		res, _ := en.(map[string]any)["resource"].(map[string]any)
		b, _ := res["meta"].(map[string]any)
		if strings.Contains(toJSON(res), "F11.20") {
			sudVersion, _ = b["versionId"].(string)
		}
	}
	if sudVersion == "" {
		t.Fatalf("no SUD version in %s", hist.Body)
	}

	other := e.get(t, "/fhir/Condition/qa26c-h1/_history", "other")
	if other.Status != http.StatusOK {
		t.Fatalf("other's history: %d %s", other.Status, other.Body)
	}
	mustNotContain(t, "other's history", other, "F11.20", "qa26c\"", "Opioid", sudVersion)
	got := other.json(t)
	oe, _ := got["entry"].([]any)
	if len(oe) != 2 {
		t.Errorf("other's history: %d entries, want 2: %s", len(oe), other.Body)
	}
	if tot, ok := got["total"].(float64); ok && int(tot) != len(oe) {
		t.Errorf("other's history total %v counts the SUD version: %s", tot, other.Body)
	}

	missing := e.get(t, "/fhir/Condition/qa26c-h1/_history/999999", "other")
	vread := e.get(t, "/fhir/Condition/qa26c-h1/_history/"+sudVersion, "other")
	if vread.Status != http.StatusNotFound || missing.Status != http.StatusNotFound ||
		strings.ReplaceAll(string(vread.Body), sudVersion, "V") != strings.ReplaceAll(string(missing.Body), "999999", "V") {
		t.Errorf("vread of the SUD version: %d %s; of a missing one: %d %s", vread.Status, vread.Body, missing.Status, missing.Body)
	}

	gone := e.get(t, "/fhir/Condition/qa26c-h2/_history", "other")
	never := e.get(t, "/fhir/Condition/qa26c-never/_history", "other")
	if gone.Status != http.StatusNotFound || never.Status != http.StatusNotFound ||
		strings.ReplaceAll(string(gone.Body), "qa26c-h2", "X") != strings.ReplaceAll(string(never.Body), "qa26c-never", "X") {
		t.Errorf("history of a deleted SUD Condition: %d %s; of a never-stored one: %d %s", gone.Status, gone.Body, never.Status, never.Body)
	}
	mustNotContain(t, "deleted SUD history", gone, "F11.20", "Opioid")
}

// testOperationBodyParamsQA26C: Patient/x/$everything POSTed with
// search-control parameters in its Parameters body is refused as the
// same parameters in its query are (HAPI reads them there; Medplum takes
// $everything by GET only and answers a POST 404, so its own parameter
// _type goes on to that answer, not to a refusal).
func testOperationBodyParamsQA26C(t *testing.T, e *env) {
	tok := e.mintToken(t, "--sub", "dr-qa26c", "--org", orgOther, "--purpose", "TREAT", "--scope", "user/*.*")
	for _, p := range []string{
		`{"name":"_count","valueInteger":0}`,
		`{"name":"_content","valueString":"opioid"}`,
		`{"name":"_elements","valueString":"id"}`,
	} {
		body := `{"resourceType":"Parameters","parameter":[` + p + `]}`
		r := e.do(t, http.MethodPost, "/fhir/"+sudPatient+"/$everything", tok, strings.NewReader(body), "Content-Type", "application/fhir+json")
		if r.Status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", p, r.Status, r.Body)
		}
	}
	body := `{"resourceType":"Parameters","parameter":[{"name":"_type","valueString":"Condition"}]}`
	r := e.do(t, http.MethodPost, "/fhir/"+sudPatient+"/$everything", tok, strings.NewReader(body), "Content-Type", "application/fhir+json")
	if r.Status == http.StatusBadRequest {
		t.Errorf("_type refused: %d %s", r.Status, r.Body)
	}
	mustNotContain(t, "POSTed $everything", r, "F11.20", "F10.20")
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
