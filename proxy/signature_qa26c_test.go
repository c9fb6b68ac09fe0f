package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestBundleSignatureGoesWithWithheldContent: a document Bundle (read as
// Bundle/x, or answered by $document) kept its signature when an entry
// was withheld or cut. The signature signs the whole document as the
// server holds it: a caller with the signer's certificate can test
// guesses of the withheld entry (which code, which id) against it, as an
// attachment's hash would let them, and a signature that no longer
// verifies says that something was withheld. It goes now whenever
// anything of the Bundle (or a Bundle nested in it) was withheld or
// changed, and stays on a document delivered whole.
func TestBundleSignatureGoesWithWithheldContent(t *testing.T) {
	t.Parallel()
	const sig = `"signature":{"type":[{"system":"urn:iso-astm:E1762-95:2013","code":"1.2.840.10065.1.12.1.1"}],"when":"2024-01-01T00:00:00Z","who":{"display":"signer"},"sigFormat":"application/jose","data":"U0lHTkFUVVJF"}`
	sud := `{"resourceType":"Condition","id":"sud1","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`
	ok := `{"resourceType":"Condition","id":"ok1","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"M54.5"}]}}`
	cut := `{"resourceType":"Observation","id":"o1",` + processInlineMeta + `,"status":"final","code":{"text":"panel"},"subject":{"reference":"Patient/p1"},"note":[{"text":"kept"},{"text":"SECRET-NOTE",` + inlineLabel("HIV") + `}]}`
	comp := `{"resourceType":"Composition","id":"k1","status":"final","type":{"text":"summary"},"subject":{"reference":"Patient/p1"},"date":"2024-01-01","author":[{"display":"a"}],"title":"t","section":[{"title":"Problems","entry":[{"reference":"Condition/ok1"}]}]}`
	doc := func(id string, entries ...string) string {
		es := []string{`{"fullUrl":"urn:uuid:c","resource":` + comp + `}`}
		for i, e := range entries {
			es = append(es, `{"fullUrl":"urn:uuid:`+string(rune('a'+i))+`","resource":`+e+`}`)
		}
		return `{"resourceType":"Bundle","id":"` + id + `","type":"document","entry":[` + strings.Join(es, ",") + `],` + sig + `}`
	}
	bodies := map[string]func(string) string{
		"Bundle/withheld":          func(string) string { return doc("withheld", ok, sud) },
		"Bundle/cut":               func(string) string { return doc("cut", ok, cut) },
		"Bundle/whole":             func(string) string { return doc("whole", ok) },
		"Composition/k1/$document": func(string) string { return doc("generated", sud, ok) },
		"Composition/k2/$document": func(string) string { return doc("generated2", ok) },
		"Composition/k1":           func(string) string { return comp },
		"Composition/k2":           func(string) string { return strings.Replace(comp, `"k1"`, `"k2"`, 1) },
		"Bundle/nested": func(string) string {
			return `{"resourceType":"Bundle","id":"nested","type":"collection","entry":[{"resource":` + doc("inner", sud, ok) + `}]}`
		},
	}
	h := newHarness(t, pathBodies(bodies))
	for _, c := range []struct {
		path string
		keep bool
	}{
		{"Bundle/withheld", false},
		{"Bundle/cut", false},
		{"Composition/k1/$document", false},
		{"Bundle/nested", false},
		{"Bundle/whole", true},
		{"Composition/k2/$document", true},
	} {
		resp, body := h.get("/fhir/"+c.path, tokOther)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id":"ok1"`) || strings.Contains(body, "F11.20") || strings.Contains(body, "SECRET") {
			t.Errorf("%s: %d %s", c.path, resp.StatusCode, body)
			continue
		}
		if has := strings.Contains(body, `"signature"`) || strings.Contains(body, "U0lHTkFUVVJF"); has != c.keep {
			t.Errorf("%s: signature kept %v, want %v: %s", c.path, has, c.keep, body)
		}
		checkKeepGone(t, c.path, body, nil, nil) // valid JSON
	}
}
