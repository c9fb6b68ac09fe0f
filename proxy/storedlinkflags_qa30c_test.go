package proxy

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A page token carries what its search's earlier pages established: that
// Patient/x/$everything disclosed its Patient with the enrolment kept, so
// the program's directory resources may follow on a later page without
// the Patient. A link of a stored Bundle in such an answer (a Bundle that
// a resource of the compartment references, which HAPI's $everything
// brings) is no page of that search: minted with the flag, it named
// another patient's $everything?_type=Organization, whose page, holding
// no Patient, then released the Part 2 program's Organization to a caller
// without consent, telling that the other patient is the program's. A
// stored link carries only the flag that withholds.
func TestStoredLinkCarriesNoEnrolmentShownQA30C(t *testing.T) {
	t.Parallel()
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/Patient/p3"):
			fhirJSONHandler(200, `{"resourceType":"Patient","id":"p3"}`)(w, r)
		case strings.HasSuffix(r.URL.Path, "/Patient/p1"):
			fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1","managingOrganization":{"reference":"Organization/p2"}}`)(w, r)
		case strings.HasSuffix(r.URL.Path, "/Patient/p3/$everything"):
			stored := `{"resourceType":"Bundle","id":"b1","type":"collection","link":[{"relation":"related","url":"` + h.base() + `/Patient/p1/$everything?_type=Organization"}]}`
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","entry":[`+
				`{"resource":{"resourceType":"Patient","id":"p3"},"search":{"mode":"match"}},`+
				`{"resource":`+stored+`,"search":{"mode":"include"}}]}`)(w, r)
		default:
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","entry":[`+
				`{"resource":{"resourceType":"Organization","id":"p2","name":"Riverside Recovery"},"search":{"mode":"match"}}]}`)(w, r)
		}
	}, withProgram)
	resp, body := h.get("/fhir/Patient/p3/$everything", tokOther)
	i := strings.Index(body, "/_page/")
	if resp.StatusCode != http.StatusOK || i < 0 {
		t.Fatalf("$everything: %d %s", resp.StatusCode, body)
	}
	tok := body[i : i+strings.IndexByte(body[i:], '"')]
	u, _ := url.Parse(tok)
	resp, body = h.get("/fhir"+u.Path, tokOther)
	if strings.Contains(body, "Riverside") || strings.Contains(body, `"Organization"`) {
		t.Errorf("the stored link's page released the program's Organization: %d %s", resp.StatusCode, body)
	}
}
