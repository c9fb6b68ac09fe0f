package proxy

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestUpdateMayNotRemoveDocumentLabelQA40F: a DocumentReference's
// securityLabel and a Composition's confidentiality label the stored
// resource as meta.security does (labels/README "Existing labels": org-b
// reads 404), but the update guard compared only meta.security and meta.tag:
// org-a, consented and without the label-writer role, PUT the document back
// with its securityLabel dropped (or its confidentiality lowered to N) and
// the server stored it ordinary, for org-b to read next; so for a contained
// document's securityLabel, which labels its container. Such a write is
// refused as stripping a meta.security label is (403); kept, it goes.
func TestUpdateMayNotRemoveDocumentLabelQA40F(t *testing.T) {
	t.Parallel()
	const sec = `{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]},` +
		`{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}]}`
	const containedDoc = `{"resourceType":"DocumentReference","id":"c","status":"current","securityLabel":[` + sec + `],"content":[{"attachment":{"contentType":"text/plain","title":"x"}}]}`
	docs := map[string]struct{ stored, stripped string }{
		// A contained document's securityLabel labels its container.
		"Observation/t2": {
			`{"resourceType":"Observation","id":"t2","meta":{"versionId":"1"},"contained":[` + containedDoc + `],"status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"lab"},"focus":[{"reference":"#c"}]}`,
			`{"resourceType":"Observation","id":"t2","contained":[{"resourceType":"Condition","id":"c","code":{"text":"x"}}],"status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"lab"},"focus":[{"reference":"#c"}]}`,
		},
		"DocumentReference/d1": {
			`{"resourceType":"DocumentReference","id":"d1","meta":{"versionId":"1"},"status":"current","subject":{"reference":"Patient/p1"},"securityLabel":[` + sec + `],"content":[{"attachment":{"contentType":"text/plain","title":"note"}}]}`,
			`{"resourceType":"DocumentReference","id":"d1","status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":{"contentType":"text/plain","title":"note"}}]}`,
		},
		"Composition/c1": {
			`{"resourceType":"Composition","id":"c1","meta":{"versionId":"1"},"status":"final","type":{"text":"note"},"subject":{"reference":"Patient/p1"},"date":"2024-01-01","title":"note","confidentiality":"R"}`,
			`{"resourceType":"Composition","id":"c1","status":"final","type":{"text":"note"},"subject":{"reference":"Patient/p1"},"date":"2024-01-01","title":"note","confidentiality":"N"}`,
		},
	}
	writes := make(chan string, 10)
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			for p, d := range docs {
				if strings.HasSuffix(r.URL.Path, "/"+p) {
					fhirJSONHandler(200, d.stored)(w, r)
					return
				}
			}
			if strings.HasSuffix(r.URL.Path, "/Patient/p1") {
				fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1"}`)(w, r)
				return
			}
			fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		writes <- r.Method + " " + string(b)
		for p, d := range docs {
			if strings.HasSuffix(r.URL.Path, "/"+p) {
				fhirJSONHandler(200, d.stored)(w, r)
				return
			}
		}
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"batch-response"}`)(w, r)
	})
	for p, d := range docs {
		// The read labels it: org-b may not read it.
		if resp, body := h.get("/fhir/"+p, tokOtherWriter); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("org-b read %s: %d %s, want 404", p, resp.StatusCode, body)
		}
		for _, c := range []struct{ method, path, body string }{
			{"PUT", "/fhir/" + p, d.stripped},
			{"POST", "/fhir", `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"PUT","url":"` + p + `"},"resource":` + d.stripped + `}]}`},
		} {
			resp, body := h.send(c.method, c.path, tokAll, "application/fhir+json", c.body)
			select {
			case wr := <-writes:
				t.Errorf("%s %s: %d, reached the server: %s", c.method, c.path, resp.StatusCode, wr)
			default:
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s %s: %d %s, want 403", c.method, c.path, resp.StatusCode, body)
				}
			}
		}
		// Kept, the update goes.
		resp, answer := h.send("PUT", "/fhir/"+p, tokAll, "application/fhir+json", strings.Replace(d.stored, `"text":"note"`, `"text":"a note"`, 1))
		select {
		case <-writes:
		default:
			t.Errorf("PUT %s keeping its labels: %d %s, want it forwarded", p, resp.StatusCode, answer)
		}
	}
}
