package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestBundleOperationNeedsWholeVersionQA38E: an instance operation on a
// stored Bundle ($meta, $validate) answers as for a missing resource when
// the read of its current version withholds or redacts anything of it from
// the caller. After 0edb896 GET Bundle/t1/$meta gave org-b the SUD label
// of a collection labelled SUD as a whole, which the read of t1 takes off
// (200, "security":[]), and $validate the issues about entries the read
// cuts. org-a, who may read it whole, and any caller on an ordinary
// Bundle still get the answer.
func TestBundleOperationNeedsWholeVersionQA38E(t *testing.T) {
	t.Parallel()
	sud := qa36eDoc("t1", "collection", `{"versionId":"2","security":[`+qa36eSUD+`]}`, false)
	meta := `{"resourceType":"Parameters","parameter":[{"name":"return","valueMeta":{"versionId":"2","security":[` + qa36eSUD + `]}}]}`
	f11 := strings.Replace(qa36eCond, `"code":{`, `"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}],`, 1)
	mixed := qa36eBundle("b1", "collection", `{"versionId":"1"}`, false, f11, bpObs)
	issues := `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"code-invalid","expression":["Bundle.entry[0].resource.ofType(Condition).code"]}]}`
	plain := qa36eBundle("b2", "collection", `{"versionId":"1"}`, false, bpObs)
	plainMeta := `{"resourceType":"Parameters","parameter":[{"name":"return","valueMeta":{"versionId":"1"}}]}`
	h := newHarness(t, routes(map[string]string{
		"/fhir/R4/Bundle/t1":           sud,
		"/fhir/R4/Bundle/t1/$meta":     meta,
		"/fhir/R4/Bundle/b1":           mixed,
		"/fhir/R4/Bundle/b1/$validate": issues,
		"/fhir/R4/Bundle/b2":           plain,
		"/fhir/R4/Bundle/b2/$meta":     plainMeta,
	}))
	_, missing := h.get("/fhir/Bundle/t0/$meta", tokOther)
	for _, path := range []string{"/fhir/Bundle/t1/$meta", "/fhir/Bundle/b1/$validate"} {
		resp, body := h.get(path, tokOther)
		if resp.StatusCode != http.StatusNotFound || strings.Contains(body, `"SUD"`) || strings.Contains(body, "Condition") ||
			body != strings.ReplaceAll(missing, "t0", path[len("/fhir/Bundle/"):len("/fhir/Bundle/t1")]) {
			t.Errorf("org-b %s: want as missing, got %d %s", path, resp.StatusCode, body)
		}
		resp, body = h.get(path, tokConsented)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"SUD"`) && !strings.Contains(body, "Condition") {
			t.Errorf("org-a %s: %d %s", path, resp.StatusCode, body)
		}
	}
	if resp, body := h.get("/fhir/Bundle/b2/$meta", tokOther); resp.StatusCode != http.StatusOK || !strings.Contains(body, "valueMeta") {
		t.Errorf("org-b $meta of an ordinary Bundle: %d %s", resp.StatusCode, body)
	}
}
