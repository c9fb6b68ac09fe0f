package proxy

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// upstreamCapabilities is a CapabilityStatement as HAPI FHIR or Medplum
// publish one: both formats, conditional interactions, operations and
// search parameters the proxy refuses, the upstream's own address.
func upstreamCapabilities(base string) string {
	return `{"resourceType":"CapabilityStatement","url":"` + base + `/metadata","status":"active","kind":"instance","fhirVersion":"4.0.1",
	"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">XML and JSON, conditional delete</div>"},
	"format":["application/fhir+xml","xml","application/fhir+json","json","html/json","ttl"],
	"patchFormat":["application/json-patch+json","application/xml-patch+xml","application/fhir+xml","application/fhir+json"],
	"implementation":{"description":"EHR","url":"` + base + `"},
	"messaging":[{"endpoint":[{"protocol":{"code":"http"},"address":"` + base + `/$process-message"}]}],
	"rest":[{"mode":"server",
	 "searchParam":[{"name":"_text","type":"string"},{"name":"_lastUpdated","type":"date"},{"name":"_filter","type":"special"}],
	 "operation":[{"name":"export","definition":"http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"},{"name":"process-message","definition":"x"},{"name":"versions","definition":"x"}],
	 "resource":[
	  {"type":"Condition","interaction":[{"code":"read"},{"code":"create"}],"conditionalCreate":true,"conditionalUpdate":true,"conditionalDelete":"multiple","conditionalRead":"full-support",
	   "searchParam":[{"name":"code","type":"token"},{"name":"_has","type":"special"},{"name":"_content","type":"string"},{"name":"_list","type":"token"},{"name":"_query","type":"token"}],
	   "operation":[{"name":"cql","definition":"x"},{"name":"stats","definition":"x"}]},
	  {"type":"Patient","searchParam":[{"name":"name","type":"string"}],"operation":[{"name":"everything","definition":"x"},{"name":"export","definition":"x"}]},
	  {"type":"Subscription","interaction":[{"code":"read"},{"code":"create"},{"code":"update"},{"code":"patch"},{"code":"delete"}]}]}]}`
}

// TestCapabilityStatementAsServed (QA round 21, area C): /metadata came
// from the upstream as it was, so a client configured itself from
// interactions, formats, operations and parameters the proxy refuses
// (conditional create and delete, XML, $export, $cql, _has ...), and
// implementation.url named the upstream's base, which callers must not
// reach past the proxy.
func TestCapabilityStatementAsServed(t *testing.T) {
	t.Parallel()
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		fhirJSONHandler(200, upstreamCapabilities(h.base()))(w, r)
	})
	resp, body := h.get("/fhir/metadata", tokOther)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, h.upstream.URL) {
		t.Errorf("the upstream's address is served: %s", body)
	}
	if !strings.HasPrefix(body, `{"resourceType":"CapabilityStatement"`) {
		t.Errorf("resourceType not first: %s", body)
	}
	var cs struct {
		URL            string   `json:"url"`
		Text           any      `json:"text"`
		Format         []string `json:"format"`
		PatchFormat    []string `json:"patchFormat"`
		Messaging      any      `json:"messaging"`
		Implementation struct {
			URL string `json:"url"`
		} `json:"implementation"`
		Rest []struct {
			SearchParam []struct{ Name string } `json:"searchParam"`
			Operation   []struct{ Name string } `json:"operation"`
			Resource    []struct {
				Type              string
				Interaction       []struct{ Code string }
				ConditionalCreate *bool                   `json:"conditionalCreate"`
				ConditionalUpdate *bool                   `json:"conditionalUpdate"`
				ConditionalDelete *string                 `json:"conditionalDelete"`
				ConditionalRead   *string                 `json:"conditionalRead"`
				SearchParam       []struct{ Name string } `json:"searchParam"`
				Operation         []struct{ Name string } `json:"operation"`
			} `json:"resource"`
		} `json:"rest"`
	}
	if err := json.Unmarshal([]byte(body), &cs); err != nil {
		t.Fatal(err)
	}
	names := func(list []struct{ Name string }) []string {
		var out []string
		for _, x := range list {
			out = append(out, x.Name)
		}
		return out
	}
	if cs.Text != nil || cs.Messaging != nil {
		t.Errorf("narrative or messaging kept: %s", body)
	}
	if !slices.Equal(cs.Format, []string{"application/fhir+json", "json"}) {
		t.Errorf("format %v, want the JSON ones", cs.Format)
	}
	if !slices.Equal(cs.PatchFormat, []string{"application/json-patch+json", "application/fhir+json"}) {
		t.Errorf("patchFormat %v", cs.PatchFormat)
	}
	if cs.Implementation.URL != h.proxy.URL+"/fhir" || cs.URL != h.proxy.URL+"/fhir/metadata" {
		t.Errorf("implementation.url %q, url %q: want the proxy's base", cs.Implementation.URL, cs.URL)
	}
	if len(cs.Rest) != 1 || len(cs.Rest[0].Resource) != 3 {
		t.Fatalf("rest: %s", body)
	}
	rest := cs.Rest[0]
	if got := names(rest.SearchParam); !slices.Equal(got, []string{"_lastUpdated"}) {
		t.Errorf("system search parameters %v", got)
	}
	if got := names(rest.Operation); !slices.Equal(got, []string{"versions"}) {
		t.Errorf("system operations %v", got)
	}
	cond, pat, sub := rest.Resource[0], rest.Resource[1], rest.Resource[2]
	if cond.ConditionalCreate == nil || *cond.ConditionalCreate || cond.ConditionalUpdate == nil || *cond.ConditionalUpdate ||
		cond.ConditionalDelete == nil || *cond.ConditionalDelete != "not-supported" || cond.ConditionalRead == nil || *cond.ConditionalRead != "not-supported" {
		t.Errorf("conditional interactions still advertised: %s", body)
	}
	if got := names(cond.SearchParam); !slices.Equal(got, []string{"code"}) {
		t.Errorf("Condition search parameters %v", got)
	}
	if cond.Operation != nil {
		t.Errorf("Condition operations %v", names(cond.Operation))
	}
	if got := names(pat.Operation); !slices.Equal(got, []string{"everything"}) {
		t.Errorf("Patient operations %v", got)
	}
	var subCodes []string
	for _, i := range sub.Interaction {
		subCodes = append(subCodes, i.Code)
	}
	if !slices.Equal(subCodes, []string{"delete"}) { // reads refused too (QA round 40)
		t.Errorf("Subscription interactions %v", subCodes)
	}

	// What a site lets through is advertised.
	var h2 *harness
	h2 = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		fhirJSONHandler(200, upstreamCapabilities(h2.base()))(w, r)
	}, func(o *Options, _ *Deps) {
		o.Requests.AllowHas, o.Requests.AllowExport, o.Requests.AllowSubscriptions = true, true, true
		o.Requests.AllowOperations = []string{"cql"}
	})
	_, body = h2.get("/fhir/metadata", tokOther)
	for _, want := range []string{`"name":"_has"`, `"name":"export"`, `"name":"cql"`, `"code":"update"`} {
		if !strings.Contains(body, want) {
			t.Errorf("allowed %s not advertised: %s", want, body)
		}
	}
	for _, gone := range []string{`"name":"stats"`, `"name":"_content"`} {
		if strings.Contains(body, gone) {
			t.Errorf("refused %s advertised: %s", gone, body)
		}
	}
}

// TestCapabilityStatementOtherBodies: a metadata answer that is no
// CapabilityStatement goes through the pipeline as it came.
func TestCapabilityStatementOtherBodies(t *testing.T) {
	t.Parallel()
	for _, b := range []string{`{"resourceType":"OperationOutcome","issue":[]}`, `{"resourceType":"CapabilityStatement"} {}`} {
		s := &Server{}
		if got := s.capabilityView([]byte(b), "http://proxy/fhir"); string(got) != b {
			t.Errorf("%s became %s", b, got)
		}
	}
}
