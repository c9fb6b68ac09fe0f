package proxy

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestOperationBodyParamsMeetSearchRules: a server takes an operation's
// parameters from a POSTed Parameters body as from the query (HAPI's
// Patient/$everything reads _count, _content, _text and _filter there,
// Medplum's _count and _offset). The proxy checked only the query, so
// Patient/x/$everything POSTed with _content=<a withheld diagnosis>,
// _count=0, _elements or _summary=count in its Parameters reached the
// server past every rule the same parameters meet in the query. Each is
// refused now, before anything reaches the upstream (not even the read
// of the Patient), and the parameters operations do take still go.
func TestOperationBodyParamsMeetSearchRules(t *testing.T) {
	t.Parallel()
	const tokAll = "Organization/org-b|TREAT|user/*.*"
	var mu sync.Mutex
	var seen []string
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+" "+string(b))
		mu.Unlock()
		switch {
		case r.URL.Path == "/fhir/R4/Patient/p2":
			fhirJSONHandler(200, `{"resourceType":"Patient","id":"p2"}`)(w, r)
		case strings.HasSuffix(r.URL.Path, "/$validate"):
			fhirJSONHandler(200, `{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational"}]}`)(w, r)
		case strings.HasSuffix(r.URL.Path, "/$expand"):
			fhirJSONHandler(200, `{"resourceType":"ValueSet","status":"active","expansion":{"timestamp":"2024-01-01","contains":[]}}`)(w, r)
		default:
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","entry":[]}`)(w, r)
		}
	})
	params := func(ps ...string) string {
		return `{"resourceType":"Parameters","parameter":[` + strings.Join(ps, ",") + `]}`
	}
	for _, c := range []struct{ name, path, body string }{
		{"_content", "/fhir/Patient/p2/$everything", params(`{"name":"_content","valueString":"opioid"}`)},
		{"_text", "/fhir/Patient/p2/$everything", params(`{"name":"_text","valueString":"opioid"}`)},
		{"_filter", "/fhir/Patient/p2/$everything", params(`{"name":"_filter","valueString":"code eq F11.20"}`)},
		{"_count=0", "/fhir/Patient/p2/$everything", params(`{"name":"_count","valueInteger":0}`)},
		{"_count=0 as a string", "/fhir/Patient/p2/$everything", params(`{"name":"_count","valueString":"00"}`)},
		{"_summary=count", "/fhir/Patient/p2/$everything", params(`{"name":"_summary","valueCode":"count"}`)},
		{"_elements", "/fhir/Patient/p2/$everything", params(`{"name":"_since","valueInstant":"2024-01-01T00:00:00Z"}`, `{"name":"_elements","valueString":"id,subject"}`)},
		{"_summary=data", "/fhir/Patient/p2/$everything", params(`{"name":"_summary","valueCode":"data"}`)},
		{"_total", "/fhir/Patient/p2/$everything", params(`{"name":"_total","valueCode":"accurate"}`)},
		{"_offset", "/fhir/Patient/p2/$everything", params(`{"name":"_offset","valueInteger":3}`)},
		{"_has", "/fhir/Patient/$everything", params(`{"name":"_has:Condition:patient:code","valueString":"F11.20"}`)},
		{"a chain", "/fhir/Patient/$everything", params(`{"name":"organization.name","valueString":"Clinic"}`)},
		{"access_token", "/fhir/Patient/p2/$everything", params(`{"name":"access_token","valueString":"x"}`)},
		{"an include beside a sensitive code", "/fhir/Observation/$lastn", params(`{"name":"code","valueCoding":{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}}`, `{"name":"_include","valueString":"Observation:patient"}`)},
		{"an include in the body beside a code in the query", "/fhir/Observation/$lastn?code=F11.20", params(`{"name":"_include","valueString":"Observation:patient"}`)},
		{"a clinical reference in $lastn's body", "/fhir/Observation/$lastn", params(`{"name":"focus","valueString":"Condition/sud1"}`)},
		{"a clinical reference in a POSTed $lastn's query", "/fhir/Observation/$lastn?focus=Condition/sud1", params(`{"name":"max","valueInteger":1}`)},
		{"not JSON", "/fhir/Patient/p2/$everything", `{"resourceType":"Parameters","parameter":[`},
		{"a name twice", "/fhir/Patient/p2/$everything", `{"resourceType":"Parameters","parameter":[{"name":"_since","name":"_content","valueString":"opioid"}]}`},
	} {
		mu.Lock()
		seen = nil
		mu.Unlock()
		resp, body := h.do(http.MethodPost, c.path, tokAll, "application/fhir+json", c.body)
		mu.Lock()
		reached := seen
		mu.Unlock()
		if resp.StatusCode != http.StatusBadRequest || len(reached) > 0 {
			t.Errorf("%s: %d %s; the upstream saw %q", c.name, resp.StatusCode, body, reached)
		}
	}
	// What operations take goes on, body and all.
	for _, c := range []struct{ name, path, body string }{
		{"$everything's own", "/fhir/Patient/p2/$everything", params(`{"name":"_since","valueInstant":"2024-01-01T00:00:00Z"}`, `{"name":"_type","valueString":"Condition,Observation"}`, `{"name":"_count","valueInteger":10}`)},
		{"$expand's", "/fhir/ValueSet/$expand", params(`{"name":"url","valueUri":"http://hl7.org/fhir/ValueSet/administrative-gender"}`, `{"name":"filter","valueString":"fem"}`, `{"name":"count","valueInteger":5}`, `{"name":"offset","valueInteger":5}`)},
		{"$validate's", "/fhir/Condition/$validate", params(`{"name":"resource","resource":{"resourceType":"Condition","id":"new","subject":{"reference":"Patient/p2"}}}`, `{"name":"mode","valueCode":"create"}`)},
		{"a resource, not Parameters", "/fhir/Condition/$validate", `{"resourceType":"Condition","subject":{"reference":"Patient/p2"}}`},
		{"$lastn's max beside a code", "/fhir/Observation/$lastn", params(`{"name":"max","valueInteger":1}`, `{"name":"code","valueString":"8867-4"}`)},
	} {
		mu.Lock()
		seen = nil
		mu.Unlock()
		resp, body := h.do(http.MethodPost, c.path, tokAll, "application/fhir+json", c.body)
		mu.Lock()
		reached := strings.Join(seen, "\n")
		mu.Unlock()
		if resp.StatusCode != http.StatusOK || !strings.Contains(reached, "POST /fhir/R4/") || !strings.Contains(reached, `"parameter"`) && strings.Contains(c.body, `"parameter"`) {
			t.Errorf("%s: %d %s; the upstream saw %q", c.name, resp.StatusCode, body, reached)
		}
	}
}
