package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestTypeHistoryCurrentBySearchOddAnswersQA31D: the Condition?_id= search
// that asks for the current versions of a history page's resources
// (c226c7f) is answered oddly: a resource of another type with the id
// asked, an include, an OperationOutcome, a Condition not asked, or every
// Condition but the one asked (a server ignoring _id, its page capped).
// None of them counts as the current version of the Condition asked: it
// is read on its own, and its older ordinary version is withheld from the
// caller who may not read its current one, as when the search answers
// plainly.
func TestTypeHistoryCurrentBySearchOddAnswersQA31D(t *testing.T) {
	t.Parallel()
	old := strings.Replace(strings.Replace(sudCondition, `"F11.20","display":"Opioid dependence"`, `"M54.5","display":"Low back pain"`, 1), `"versionId":"3"`, `"versionId":"1"`, 1)
	ok := refillCond("c0", false)
	entry := func(res string) string {
		return `{"resource":` + res + `,"request":{"method":"PUT","url":"Condition"},"response":{"status":"200 OK"}}`
	}
	page := `{"resourceType":"Bundle","type":"history","entry":[` + entry(ok) + `,` + entry(old) + `]}`
	// An ordinary Observation with the id of the Condition asked.
	impostor := `{"resourceType":"Observation","id":"sud1","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"weight"}}`
	other := refillCond("c9", false)
	for name, answer := range map[string]string{
		"another type":    `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":` + ok + `,"search":{"mode":"match"}},{"resource":` + impostor + `,"search":{"mode":"match"}}]}`,
		"an include":      `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":` + ok + `,"search":{"mode":"match"}},{"resource":` + impostor + `,"search":{"mode":"include"}}]}`,
		"an outcome":      `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":` + ok + `},{"resource":{"resourceType":"OperationOutcome","id":"sud1","issue":[{"severity":"warning","code":"informational"}]},"search":{"mode":"outcome"}}]}`,
		"ignores _id":     `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":` + other + `},{"resource":` + ok + `}]}`,
		"not a searchset": `{"resourceType":"Bundle","type":"collection","entry":[{"resource":` + ok + `},{"resource":` + old + `}]}`,
	} {
		h := newHarness(t, currentReads(func(w http.ResponseWriter, r *http.Request) {
			p := strings.TrimPrefix(r.URL.Path, "/fhir/R4/")
			switch {
			case strings.HasSuffix(p, "_history"):
				fhirJSONHandler(200, page)(w, r)
			case p == "Condition":
				fhirJSONHandler(200, answer)(w, r)
			default:
				fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
			}
		}, currentOf(ok, sudCondition)))
		for _, path := range []string{"/fhir/Condition/_history", "/fhir/_history"} {
			resp, body := h.get(path, tokOther)
			if resp.StatusCode != 200 || strings.Contains(body, "sud1") || strings.Contains(body, "Low back pain") || !strings.Contains(body, `"c0"`) {
				t.Errorf("%s, %s: %d %s", name, path, resp.StatusCode, body)
			}
			resp, body = h.get(path, tokConsented)
			if resp.StatusCode != 200 || !strings.Contains(body, "Low back pain") || !strings.Contains(body, `"c0"`) {
				t.Errorf("%s, %s, the consented caller: %d %s", name, path, resp.StatusCode, body)
			}
		}
	}
}
