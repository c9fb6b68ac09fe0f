package proxy

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ds4p/ds4p/proxy/authn"
)

// selfWriterAuth: Dr M of org-b, fhirUser Practitioner/m, may read and
// write (user/*.*), treating.
type selfWriterAuth struct{}

func (selfWriterAuth) Verify(context.Context, string) (authn.Caller, error) {
	return authn.Caller{Subject: "opaque-m", Org: "Organization/org-b", FHIRUser: "Practitioner/m",
		Purposes: []string{"TREAT"}, Scopes: []string{"user/*.*"}}, nil
}

// TestPermitByIdentifierNotTakenByWritingItQA41F (QA round 41, helper F, on
// cc4362a): p1's consent permits org-a, named by its NPI, for treatment.
// With upstream actor resolution, an identifier actor is also named by the
// upstream's Practitioners carrying it. Dr M of org-b (fhirUser
// Practitioner/m, allowed to write) put org-a's NPI on his own
// Practitioner through ds4p (200) and then read the Part 2 condition
// (200; 404 before the write and before cc4362a). Names found by such a
// search widen denies only.
func TestPermitByIdentifierNotTakenByWritingItQA41F(t *testing.T) {
	f := &fakeFHIR{}
	permit := strings.Replace(upstreamConsentWith("u1", ""), `"reference":{"reference":"Organization/org-a"}`,
		`"reference":{"identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}}`, 1)
	if permit == upstreamConsentWith("u1", "") {
		t.Fatal("consent shape changed")
	}
	f.set(200, permit)
	var mu sync.Mutex
	drM := `{"resourceType":"Practitioner","id":"m"}`
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case r.URL.Path == "/fhir/R4/Practitioner/m" && r.Method == http.MethodPut:
			b, _ := io.ReadAll(r.Body)
			drM = string(b)
			fhirJSONHandler(http.StatusOK, drM)(w, r)
		case r.URL.Path == "/fhir/R4/Practitioner/m":
			fhirJSONHandler(http.StatusOK, drM)(w, r)
		case r.URL.Path == "/fhir/R4/Practitioner":
			entries := ""
			if strings.Contains(drM, "1234567893") && strings.HasSuffix(r.URL.Query().Get("identifier"), "|1234567893") {
				entries = `{"resource":` + drM + `,"search":{"mode":"match"}}`
			}
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","entry":[`+entries+`]}`)(w, r)
		case r.URL.Path == "/fhir/R4/PractitionerRole" || r.URL.Path == "/fhir/R4/Organization":
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","entry":[]}`)(w, r)
		default:
			f.handler(w, r)
		}
	}))
	h := resolvingHarness(t, selfWriterAuth{}, upstream)
	if resp, _ := h.get("/fhir/Condition/sud1", "any"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("before the write: %d, want 404", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPut, h.proxy.URL+"/fhir/Practitioner/m",
		strings.NewReader(`{"resourceType":"Practitioner","id":"m","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}]}`))
	req.Header.Set("Authorization", "Bearer any")
	req.Header.Set("Content-Type", "application/fhir+json")
	wr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	wb, _ := io.ReadAll(wr.Body)
	wr.Body.Close()
	if wr.StatusCode != http.StatusOK {
		t.Fatalf("PUT Practitioner/m: %d %s", wr.StatusCode, wb)
	}
	if resp, body := h.get("/fhir/Condition/sud1", "any"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("after Dr M wrote org-a's NPI onto his Practitioner: %d %.80s, want 404", resp.StatusCode, body)
	}
}
