package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// Resources that point at another patient's data without naming that
// patient (a List of p2's Conditions with no subject, a Linkage, a
// Communication about, a subject-less MeasureReport, a Task focus without
// for, a DocumentManifest's content, a Composition's section entries, a
// Basic, a Flag, a DetectedIssue, a ClinicalImpression, a RiskAssessment's
// basis ...) were read as data about no patient: a token bound to p1 read
// them and learnt that p2's Condition exists, and what it is (QA round 27,
// area A). They take the patients of what they point at: withheld unless
// what they point at is in the response and the token's patient's.
func TestIndirectResourcesTakeTheirTargetsPatients(t *testing.T) {
	t.Parallel()
	const c2 = `{"resourceType":"Condition","id":"c2","subject":{"reference":"Patient/p2"},"code":{"text":"hypertension"}}`
	const c1 = `{"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},"code":{"text":"asthma"}}`
	ref2 := `{"reference":"Condition/c2","display":"secret-two"}`
	cases := map[string]string{
		"List/l2":                  `{"resourceType":"List","id":"l2","status":"current","mode":"working","entry":[{"item":` + ref2 + `}]}`,
		"Linkage/k2":               `{"resourceType":"Linkage","id":"k2","item":[{"type":"source","resource":` + ref2 + `}]}`,
		"Communication/m2":         `{"resourceType":"Communication","id":"m2","status":"completed","about":[` + ref2 + `]}`,
		"MeasureReport/r2":         `{"resourceType":"MeasureReport","id":"r2","status":"complete","type":"individual","measure":"http://m","period":{"start":"2024"},"evaluatedResource":[` + ref2 + `]}`,
		"Task/t2":                  `{"resourceType":"Task","id":"t2","status":"ready","intent":"order","focus":` + ref2 + `}`,
		"DocumentManifest/d2":      `{"resourceType":"DocumentManifest","id":"d2","status":"current","content":[` + ref2 + `]}`,
		"Composition/co2":          `{"resourceType":"Composition","id":"co2","status":"final","type":{"text":"x"},"date":"2024","author":[{"display":"a"}],"title":"t","section":[{"entry":[` + ref2 + `]}]}`,
		"Basic/b2":                 `{"resourceType":"Basic","id":"b2","code":{"text":"x"},"subject":` + ref2 + `}`,
		"Flag/f2":                  `{"resourceType":"Flag","id":"f2","status":"active","code":{"text":"x"},"subject":{"reference":"Location/loc"},"extension":[{"url":"http://x","valueReference":` + ref2 + `}]}`,
		"DetectedIssue/i2":         `{"resourceType":"DetectedIssue","id":"i2","status":"final","implicated":[` + ref2 + `]}`,
		"ClinicalImpression/ci2":   `{"resourceType":"ClinicalImpression","id":"ci2","status":"completed","problem":[` + ref2 + `]}`,
		"RiskAssessment/ra2":       `{"resourceType":"RiskAssessment","id":"ra2","status":"final","basis":[` + ref2 + `]}`,
		"Group/g2":                 `{"resourceType":"Group","id":"g2","type":"person","actual":true,"characteristic":[{"code":{"text":"x"},"valueReference":` + ref2 + `,"exclude":false}]}`,
		"Observation/ob2":          `{"resourceType":"Observation","id":"ob2","status":"final","code":{"text":"x"},"focus":[` + ref2 + `]}`,
		"QuestionnaireResponse/q2": `{"resourceType":"QuestionnaireResponse","id":"q2","status":"completed","encounter":{"reference":"Encounter/e2"}}`,
	}
	const e2 = `{"resourceType":"Encounter","id":"e2","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/p2"}}`
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		p := strings.TrimPrefix(r.URL.Path, "/fhir/R4/")
		switch {
		case p == "Condition/c2":
			_, _ = w.Write([]byte(c2))
		case p == "Condition/c1":
			_, _ = w.Write([]byte(c1))
		case p == "Encounter/e2":
			_, _ = w.Write([]byte(e2))
		case p == "List/lp":
			_, _ = w.Write([]byte(`{"resourceType":"List","id":"lp","status":"current","mode":"working","entry":[{"item":{"reference":"Practitioner/dr","display":"own-doctor"}},{"item":{"reference":"Device/dv"}}]}`))
		case p == "List":
			l1 := `{"resourceType":"List","id":"l1","status":"current","mode":"working","entry":[{"item":{"reference":"Condition/c1","display":"own-asthma"}}]}`
			_, _ = w.Write([]byte(`{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"http://x/List/l1","resource":` + l1 + `,"search":{"mode":"match"}},{"fullUrl":"http://x/List/l2","resource":` + cases["List/l2"] + `,"search":{"mode":"match"}},{"fullUrl":"http://x/Condition/c1","resource":` + c1 + `,"search":{"mode":"include"}}]}`))
		case cases[p] != "":
			_, _ = w.Write([]byte(cases[p]))
		default:
			w.WriteHeader(404)
			_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`))
		}
	}, withScopeAuth)
	for path := range cases {
		resp, body := h.get("/fhir/"+path, "p1|patient/*.rs")
		if resp.StatusCode != http.StatusNotFound || strings.Contains(body, "secret-two") || strings.Contains(body, "c2") {
			t.Errorf("%s with a token bound to p1: %d %s", path, resp.StatusCode, body)
		}
	}
	// What the token's patient's own records, or no patient's, are: as before.
	if resp, body := h.get("/fhir/List/lp", "p1|patient/*.rs"); resp.StatusCode != 200 || !strings.Contains(body, "own-doctor") {
		t.Errorf("a List of Practitioners with a token bound to p1: %d %s", resp.StatusCode, body)
	}
	resp, body := h.get("/fhir/List?code=x&_include=List:item", "p1|patient/*.rs")
	if resp.StatusCode != 200 || !strings.Contains(body, "own-asthma") || strings.Contains(body, "secret-two") {
		t.Errorf("a List of the patient's own Conditions beside them: %d %s", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/List/l2", "|user/*.rs"); resp.StatusCode != 200 || !strings.Contains(body, "secret-two") {
		t.Errorf("a user token reading the List: %d %s", resp.StatusCode, body)
	}
}
