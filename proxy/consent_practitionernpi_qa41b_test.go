package proxy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/rego"
)

// npiAuth authenticates every token as Dr X of org-a treating p1: opaque
// subject, fhirUser Practitioner/dr-x, no identifiers of the user.
type npiAuth struct{}

func (npiAuth) Verify(context.Context, string) (authn.Caller, error) {
	return authn.Caller{Subject: "5f0c9a52-opaque", Org: "Organization/org-a", FHIRUser: "Practitioner/dr-x",
		Purposes: []string{"TREAT"}, Scopes: []string{"user/*.read"}}, nil
}

// TestConsentDenyOfPractitionerByNPIQA41B: the EHR's consent of p1
// permits org-a for treatment except the practitioner it names by NPI, as
// consent forms name clinicians. With upstream actor resolution on, Dr X
// (fhirUser Practitioner/dr-x, whose upstream resource carries that NPI)
// read the Part 2 condition: an identifier actor is matched as written
// against the caller's organisation identifiers only, and nothing looks up
// whose NPI it is (QA round 41, area B). An identifier actor is now also
// named by the references of the upstream's Organizations, Practitioners
// and PractitionerRoles carrying it.
func TestConsentDenyOfPractitionerByNPIQA41B(t *testing.T) {
	t.Parallel()
	setup := func(consent string) *harness {
		f := &fakeFHIR{}
		f.set(200, consent)
		upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			const drX = `{"resourceType":"Practitioner","id":"dr-x","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1316999999"}]}`
			switch {
			case r.URL.Path == "/fhir/R4/Practitioner/dr-x":
				fhirJSONHandler(http.StatusOK, drX)(w, r)
				return
			case r.URL.Path == "/fhir/R4/Practitioner" && (r.URL.Query().Get("identifier") == "http://hl7.org/fhir/sid/us-npi|1316999999" || r.URL.Query().Get("identifier") == "urn:other|1316999999"):
				// the second: a server that ignores the system
				fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":`+drX+`,"search":{"mode":"match"}}]}`)(w, r)
				return
			case r.URL.Path == "/fhir/R4/Practitioner" || r.URL.Path == "/fhir/R4/PractitionerRole" || r.URL.Path == "/fhir/R4/Organization":
				fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","entry":[]}`)(w, r)
				return
			}
			f.handler(w, r)
		}))
		return resolvingHarness(t, npiAuth{}, upstream)
	}
	for _, tt := range []struct {
		name, deny string
		want       int
	}{
		{"no deny", "", http.StatusOK},
		{"deny by reference", `,"provision":[{"type":"deny","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Practitioner/dr-x"}}]}]`, http.StatusNotFound},
		{"deny by NPI", `,"provision":[{"type":"deny","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":"1316999999"}}}]}]`, http.StatusNotFound},
		{"deny by another system's identifier the server matches loosely", `,"provision":[{"type":"deny","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"identifier":{"system":"urn:other","value":"1316999999"}}}]}]`, http.StatusOK},
	} {
		h := setup(upstreamConsentWith("u1", tt.deny))
		if resp, _ := h.get("/fhir/Condition/sud1", "any"); resp.StatusCode != tt.want {
			t.Errorf("%s: Dr X read the Part 2 condition: %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
	}
}

// resolvingHarness is a proxy over upstream with the embedded policy, a
// real consent store and upstream consents read on demand with actor
// resolution (the identifier searches of cc4362a), callers authenticated
// by auth.
func resolvingHarness(t *testing.T, auth Authenticator, upstream *httptest.Server) *harness {
	t.Helper()
	t.Cleanup(upstream.Close)
	u, _ := url.Parse(upstream.URL + "/fhir/R4")
	eng, err := policy.New(context.Background(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Options{Upstream: u, UpstreamTimeout: 2 * time.Second, MaxBodyBytes: 1 << 20},
		Deps{Labeller: labels.Default(), Decider: eng, Ledger: &fakeLedger{}, Auth: auth, Consents: openConsentStore(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.UseConsentSources(t.Context(), ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour, ResolveActors: true}); err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(srv.Handler())
	t.Cleanup(proxy.Close)
	return &harness{t: t, upstream: upstream, proxy: proxy}
}
