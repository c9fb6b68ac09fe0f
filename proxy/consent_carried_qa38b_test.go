package proxy

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/consent"
)

// carriedDenyConsent is p1's consent: every one denied but org-a for
// treatment, and org-a not what deny (a provision's criteria) names.
func carriedDenyConsent(deny string) consent.Record {
	raw := `{"resourceType":"Consent","id":"cd1","meta":{"versionId":"1"},"status":"active",
	"scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
	"patient":{"reference":"Patient/p1"},
	"provision":{"type":"deny","provision":[{"type":"permit",
	"actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/org-a"}}],
	"purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}],
	"provision":[{"type":"deny",` + deny + `}]}]}}`
	return consent.Record{ID: "cd1", Version: 1, Patient: "Patient/p1", Status: "active", Updated: time.Now(), JSON: []byte(raw)}
}

// TestConsentDenyReachesCarriedResourcesQA38B: a deny by code, by class or
// of a record (provision.code, class, data) applies to a record containing
// or carrying what it names. p1's consent lets org-a have her SUD records
// for treatment except her urine drug screens (LOINC 19295-5, an ordinary
// code the labeller does not label); the Part 2 program's toxicology report
// (labelled SUD) holding the screen as a contained Observation, in a
// contained collection, in a contained Parameters' part, or in a contained
// entry's own contained list, went to org-a whole (200): the consent's
// codes were matched against the report's own code alone, and the screen,
// ordinary on its own, is decided without the consent. The same for a deny
// of the class Observation and of the record Observation/uds1. A deny
// naming something the report does not carry still leaves it to org-a.
func TestConsentDenyReachesCarriedResourcesQA38B(t *testing.T) {
	t.Parallel()
	const (
		denyCode      = `"code":[{"coding":[{"system":"http://loinc.org","code":"19295-5"}]}]`
		denyOther     = `"code":[{"coding":[{"system":"http://loinc.org","code":"3397-7"}]}]`
		denyClass     = `"class":[{"system":"http://hl7.org/fhir/resource-types","code":"Observation"}]`
		denyCond      = `"class":[{"system":"http://hl7.org/fhir/resource-types","code":"Condition"}]`
		denyData      = `"data":[{"meaning":"instance","reference":{"reference":"Observation/uds1"}}]`
		denyOtherData = `"data":[{"meaning":"instance","reference":{"reference":"Observation/uds2"}}]`
	)
	uds := `{"resourceType":"Observation","id":"uds1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"19295-5"}]},"valueString":"positive"}`
	report := func(contained string) string {
		return `{"resourceType":"DiagnosticReport","id":"x1","subject":{"reference":"Patient/p1"},` +
			`"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]},` +
			`"status":"final","code":{"text":"toxicology"},"contained":[` + contained + `],"result":[{"reference":"#uds1"}]}`
	}
	collection := func(res string) string {
		return `{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"Observation/uds1","resource":` + res + `}]}`
	}
	params := `{"resourceType":"Parameters","parameter":[{"name":"r","part":[{"name":"screen","resource":` + uds + `}]}]}`
	entryContained := collection(`{"resourceType":"Observation","id":"o2","status":"final","code":{"text":"panel"},"contained":[` + uds + `]}`)
	cases := []struct {
		name, deny, body string
		want             int
	}{
		{"code, contained", denyCode, report(uds), http.StatusNotFound},
		{"code, in a contained collection", denyCode, report(collection(uds)), http.StatusNotFound},
		{"code, in a contained Parameters' part", denyCode, report(params), http.StatusNotFound},
		{"code, in a contained entry's contained list", denyCode, report(entryContained), http.StatusNotFound},
		{"class, contained", denyClass, report(uds), http.StatusNotFound},
		{"class, in a contained collection", denyClass, report(collection(uds)), http.StatusNotFound},
		{"record, in a contained collection", denyData, report(collection(uds)), http.StatusNotFound},
		{"record, contained", denyData, report(uds), http.StatusNotFound},
		{"another code", denyOther, report(collection(uds)), http.StatusOK},
		{"another class", denyCond, report(collection(uds)), http.StatusOK},
		{"another record", denyOtherData, report(collection(uds)), http.StatusOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, fhirJSONHandler(200, c.body), func(_ *Options, d *Deps) {
				d.Consents = &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {carriedDenyConsent(c.deny)}}}
			})
			resp, body := h.get("/fhir/DiagnosticReport/x1", tokConsented)
			if resp.StatusCode != c.want {
				t.Errorf("org-a: %d, want %d: %.200s", resp.StatusCode, c.want, body)
			}
			if c.want == http.StatusNotFound && strings.Contains(body, "19295-5") {
				t.Errorf("org-a read the refused screen: %.300s", body)
			}
		})
	}
}

// TestConsentDenyReachesOperationAnswerQA38B: the same for the resources an
// operation's Parameters answer carries: a Parameters labelled SUD whose
// parameter holds p1's urine drug screen went to org-a (200) though her
// consent refuses org-a that code.
func TestConsentDenyReachesOperationAnswerQA38B(t *testing.T) {
	t.Parallel()
	uds := `{"resourceType":"Observation","id":"uds1","status":"final","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://loinc.org","code":"19295-5"}]},"valueString":"positive"}`
	body := `{"resourceType":"Parameters","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]},"parameter":[{"name":"x","resource":` + uds + `}]}`
	for code, want := range map[string]int{"19295-5": http.StatusNotFound, "3397-7": http.StatusOK} {
		deny := `"code":[{"coding":[{"system":"http://loinc.org","code":"` + code + `"}]}]`
		h := newHarness(t, routes(map[string]string{"/fhir/R4/Observation/$x": body}), func(o *Options, d *Deps) {
			o.Requests.AllowOperations = []string{"x"}
			d.Consents = &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {carriedDenyConsent(deny)}}}
		})
		resp, out := h.do(http.MethodGet, "/fhir/Observation/$x", tokConsented, "", "")
		if resp.StatusCode != want {
			t.Errorf("deny of %s, org-a: %d, want %d: %.200s", code, resp.StatusCode, want, out)
		}
	}
}
