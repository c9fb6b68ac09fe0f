package proxy

import (
	"encoding/json"
	"strings"
	"testing"
)

// QA round 34, area A: a batch-response entry whose response is an array
// of one object rather than the object (invalid FHIR JSON, but a server
// may send it, and other readers take it as that object). It was read as
// no response: its outcome's free text ("row for F11.20 skipped") went to
// org-b, and a missing resource's entry went out as the server wrote it,
// not as a withheld one is answered. It is read as the object; a response
// that is no object, nor an array of one, withholds the answer.
func TestEntryPartsArrayOfOneQA34A(t *testing.T) {
	t.Parallel()
	const oo = `{"resourceType":"OperationOutcome","issue":[{"severity":"warning","code":"processing","diagnostics":"row for F11.20 skipped"}]}`
	for name, c := range map[string]struct {
		entry, want string // want: the entry as answered, or "" for a withheld answer
	}{
		"outcome":           {`{"response":[{"status":"400 Bad Request","outcome":` + oo + `}]}`, `{"response":[{"status":"400 Bad Request","outcome":{"resourceType":"OperationOutcome","issue":[{"severity":"warning","code":"processing"}]}}]}`},
		"missing":           {`{"resource":{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found","diagnostics":"Condition/zz8 F11.20"}]},"response":[{"status":"404"}]}`, string(goneEntry)},
		"withheld":          {`{"resource":` + sudCondition + `,"response":[{"status":"200 OK"}]}`, string(goneEntry)},
		"escaped key":       {`{"resp\u006fnse":[{"status":"400 Bad Request","outcome":` + oo + `}]}`, `{"resp\u006fnse":[{"status":"400 Bad Request","outcome":{"resourceType":"OperationOutcome","issue":[{"severity":"warning","code":"processing"}]}}]}`},
		"two responses":     {`{"response":[{"status":"200 OK"},{"status":"400 Bad Request","outcome":` + oo + `}]}`, ""},
		"a string response": {`{"response":"400 row for F11.20 skipped"}`, ""},
	} {
		b := `{"resourceType":"Bundle","type":"batch-response","entry":[` + c.entry + `]}`
		h := newHarness(t, fhirJSONHandler(200, b))
		resp, body := h.post("/fhir", tokOther, `{"resourceType":"Bundle","type":"batch","entry":[]}`)
		if strings.Contains(body, "F11.20") {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
		if c.want == "" {
			if resp.StatusCode < 500 {
				t.Errorf("%s: %d %s; want the answer withheld", name, resp.StatusCode, body)
			}
			continue
		}
		var m struct{ Entry []json.RawMessage }
		if err := json.Unmarshal([]byte(body), &m); err != nil || len(m.Entry) != 1 || string(m.Entry[0]) != c.want {
			t.Errorf("%s: %d %s; want the entry %s", name, resp.StatusCode, body, c.want)
		}
	}
}
