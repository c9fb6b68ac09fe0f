package proxy

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy/authn"
)

// TestConsentScopeAccompaniesDisclosure: a Part 2 record disclosed under
// the patient's consent goes out with an explanation of that consent's
// scope (42 CFR 2.32(b), 2024 rule), in the notice header of a read and in
// the outcome entry of a searchset; a disclosure under a medical emergency
// (no consent) carries none.
func TestConsentScopeAccompaniesDisclosure(t *testing.T) {
	t.Parallel()
	searchset := `{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"Condition/p2c","resource":` + part2Condition + `,"search":{"mode":"match"}}]}`
	handler := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		if strings.HasSuffix(r.URL.Path, "/Condition") {
			_, _ = w.Write([]byte(searchset))
			return
		}
		_, _ = w.Write([]byte(part2Condition))
	}
	const want = "Disclosed with the patient's written consent. Consent/c1 version 1; it permits disclosure to Organization/org-a for the purposes TREAT."
	h := newHarness(t, handler)
	resp, body := h.get("/fhir/Condition/p2c", tokConsented)
	if resp.StatusCode != 200 {
		t.Fatalf("read: %d %s", resp.StatusCode, body)
	}
	if got := scopeHeader(resp); got != ConsentScopeNotice+"; "+want {
		t.Errorf("read: scope notice %q, want %q (all notices: %q)", got, want, resp.Header.Values(NoticeHeader))
	}
	resp, body = h.get("/fhir/Condition?subject=Patient/p1", tokConsented)
	if resp.StatusCode != 200 || !strings.Contains(body, `"details":{"text":"`+ConsentScopeNotice+`"},"diagnostics":"`+strings.ReplaceAll(want, "'", `\u0027`)) &&
		!strings.Contains(body, `"details":{"text":"`+ConsentScopeNotice+`"},"diagnostics":"`+want) {
		t.Errorf("search: %d, the outcome entry lacks the scope notice: %s", resp.StatusCode, body)
	}
	if got := scopeHeader(resp); got != ConsentScopeNotice+"; "+want {
		t.Errorf("search: scope notice %q", got)
	}

	er := newHarness(t, handler, func(_ *Options, d *Deps) { d.Auth = breakGlassAuth{} })
	resp, body = er.get("/fhir/Condition/p2c", "x")
	if resp.StatusCode != 200 || len(resp.Header.Values(NoticeHeader)) == 0 {
		t.Fatalf("emergency read: %d %q %s", resp.StatusCode, resp.Header.Values(NoticeHeader), body)
	}
	if got := scopeHeader(resp); got != "" {
		t.Errorf("an emergency disclosure, made without consent, explains a consent: %q", got)
	}
}

func scopeHeader(resp *http.Response) string {
	for _, v := range resp.Header.Values(NoticeHeader) {
		if strings.HasPrefix(v, ConsentScopeNotice+";") {
			return v
		}
	}
	return ""
}

// TestNoticeHeaderBounded: a search disclosing under many patients'
// consents keeps each notice header value within maxNoticeHeader.
func TestNoticeHeaderBounded(t *testing.T) {
	t.Parallel()
	var r run
	r.consents = map[string]patientConsents{}
	var relied []audit.ConsentRef
	for i := range 60 {
		id := "c" + strings.Repeat("9", i)
		n := &consent.Normalized{ID: id, Version: "1", Rules: []consent.Rule{{Type: "permit", Conditions: []consent.Cond{{Actors: []string{"Organization/" + strings.Repeat("a", 50)}}}}}}
		r.consents["Patient/p"+id] = patientConsents{values: []any{n}}
		relied = append(relied, audit.ConsentRef{ID: id, Version: "1"})
	}
	n, ok := r.consentScopeNotice(relied)
	if !ok || len(n.Text) < maxNoticeHeader {
		t.Fatalf("the test needs a notice longer than the header bound: %d", len(n.Text))
	}
	vs := noticeHeaderValues([]policy.Notice{n})
	if len(vs[0]) > maxNoticeHeader || !strings.HasSuffix(vs[0], noticeCut) {
		t.Fatalf("header value of %d bytes, ends %q", len(vs[0]), vs[0][len(vs[0])-40:])
	}
}

// qaConsent denies all and permits (a) org-a for TREAT, except what the
// patient withholds under it (HIV records), and (b) an HIV clinic for TREAT
// of the HIV record Condition/c-c-hiv-secret.
func qaConsent(patient string) consent.Record {
	raw := `{"resourceType":"Consent","id":"c-c","meta":{"versionId":"1"},"status":"active",
	"scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
	"patient":{"reference":"` + patient + `"},
	"provision":{"type":"deny","provision":[
	  {"type":"permit",
	   "actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/org-a"}}],
	   "purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}],
	   "provision":[{"type":"deny","securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HIV"}]}]},
	  {"type":"permit",
	   "actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/hiv-clinic"}}],
	   "purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}],
	   "securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HIV"}],
	   "code":[{"coding":[{"system":"http://snomed.info/sct","code":"86406008"}]}],
	   "data":[{"meaning":"instance","reference":{"reference":"Condition/c-c-hiv-secret"}}]}]}}`
	return consent.Record{ID: "c-c", Version: 1, Patient: patient, Status: "active", Updated: time.Now(), JSON: []byte(raw)}
}

// TestConsentScopeTellsOnlyTheRecipientsTerms: the explanation a recipient
// gets describes the provisions that apply to it, not those written for
// other recipients (their labels, codes and records tell what the patient
// has, e.g. an HIV record), and says that its own provision has exceptions
// without naming them.
func TestConsentScopeTellsOnlyTheRecipientsTerms(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, part2Condition), func(_ *Options, d *Deps) {
		d.Consents = &fakeConsents{byPatient: map[string][]consent.Record{"Patient/p1": {qaConsent("Patient/p1")}}}
	})
	resp, body := h.get("/fhir/Condition/p2c", tokConsented)
	if resp.StatusCode != 200 {
		t.Fatalf("read: %d %s", resp.StatusCode, body)
	}
	const want = ConsentScopeNotice + "; Disclosed with the patient's written consent." +
		" Consent/c-c version 1; it permits disclosure to Organization/org-a for the purposes TREAT, with exceptions the patient set."
	if got := scopeHeader(resp); got != want {
		t.Errorf("scope notice\n got %q\nwant %q", got, want)
	}
	for _, leak := range []string{"HIV", "hiv", "86406008", "Condition/c-c"} {
		for _, v := range resp.Header.Values(NoticeHeader) {
			if strings.Contains(v, leak) {
				t.Errorf("a notice tells org-a %q: %s", leak, v)
			}
		}
	}
}

// TestConsentScopeRecipients: the recipient is matched by the caller's
// organisation reference, organisation identifiers and subject; a caller
// no provision names (admitted through a designation only the policy
// knows) learns no provision's terms.
func TestConsentScopeRecipients(t *testing.T) {
	t.Parallel()
	c := &consent.Normalized{ID: "c1", Version: "1", Rules: []consent.Rule{
		{Path: "provision", Type: "deny", Conditions: []consent.Cond{{}}},
		{Path: "provision.provision[0]", Depth: 1, Type: "permit", Conditions: []consent.Cond{{}, {Actors: []string{"http://npi|42"}, Purposes: []string{"TREAT"}}}},
		{Path: "provision.provision[1]", Depth: 1, Type: "permit", Conditions: []consent.Cond{{}, {Actors: []string{"Practitioner/dr-x"}, Purposes: []string{"HPAYMT"}}}},
		{Path: "provision.provision[2]", Depth: 1, Type: "permit", Conditions: []consent.Cond{{}, {Actors: []string{"Organization/other"}, Labels: []string{"HIV"}}}},
	}}
	text := func(caller authn.Caller) string {
		r := run{ex: &exchange{caller: caller}, consents: map[string]patientConsents{"Patient/p1": {values: []any{c}}}}
		n, ok := r.consentScopeNotice([]audit.ConsentRef{{ID: "c1", Version: "1"}})
		if !ok {
			t.Fatal("no scope notice")
		}
		return n.Text
	}
	got := text(authn.Caller{Org: "Organization/org-a", OrgIdentifiers: []string{"http://npi|42"}, Subject: "Practitioner/dr-x"})
	if want := "Disclosed with the patient's written consent. Consent/c1 version 1; it permits disclosure to http://npi|42 for the purposes TREAT;" +
		" and to Practitioner/dr-x for the purposes HPAYMT."; got != want {
		t.Errorf("\n got %q\nwant %q", got, want)
	}
	got = text(authn.Caller{Org: "Organization/hie-member", Subject: "u1"})
	if strings.Contains(got, "HIV") || strings.Contains(got, "TREAT") || !strings.Contains(got, "general designation") {
		t.Errorf("a designated recipient: %q", got)
	}
}

// TestNoticeHeaderPercentEncodesNonASCII: the notice header keeps the
// recipient's non-ASCII name, percent-encoded (a decoder gets the text
// back: '%' is encoded too), and drops control characters (CR, LF:
// header injection); the outcome entry carries the UTF-8 text; a cut
// header value does not split an escape.
func TestNoticeHeaderPercentEncodesNonASCII(t *testing.T) {
	t.Parallel()
	n := policy.Notice{ID: ConsentScopeNotice, Text: "to Organization/org-\u00fcber\r\nX-Evil: 1 at 100%\x7f\u0085."}
	vs := noticeHeaderValues([]policy.Notice{n})
	if want := ConsentScopeNotice + "; to Organization/org-%C3%BCberX-Evil: 1 at 100%25."; vs[0] != want {
		t.Errorf("\n got %q\nwant %q", vs[0], want)
	}
	if dec, err := url.PathUnescape(vs[0]); err != nil || !strings.Contains(dec, "org-\u00fcber") {
		t.Errorf("decodes to %q, %v", dec, err)
	}
	if e := noticeEntry([]policy.Notice{n}); !strings.Contains(string(e), "org-\u00fcber") {
		t.Errorf("the outcome entry lost the name: %s", e)
	}
	for pad := range 3 {
		long := policy.Notice{ID: "x", Text: strings.Repeat("a", pad) + strings.Repeat("\u00fc", maxNoticeHeader)}
		v := noticeHeaderValues([]policy.Notice{long})[0]
		body := strings.TrimSuffix(v, noticeCut)
		if len(v) > maxNoticeHeader || body == v {
			t.Fatalf("pad %d: %d bytes, ends %q", pad, len(v), v[len(v)-20:])
		}
		if _, err := url.PathUnescape(body); err != nil {
			t.Errorf("pad %d: a split escape: %v (ends %q)", pad, err, body[len(body)-8:])
		}
	}
}

// A claim whose SUD diagnosis, from a Part 2 program, is labelled inline:
// the claim itself is ordinary.
const claimWithPart2Diagnosis = `{"resourceType":"Claim","id":"claim-d","status":"active","use":"claim",
 "patient":{"reference":"Patient/p1"},
 "diagnosis":[{"extension":[
   {"url":"http://hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-inline-sec-label","valueCoding":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}},
   {"url":"http://hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-inline-sec-label","valueCoding":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}}],
  "sequence":1,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}]}`

// TestConsentScopeOfAPart2Element: a Part 2 element disclosed under the
// patient's consent inside an ordinary resource carries the 42 CFR 2.32
// notice and the explanation of the consent's scope, in the header of a
// read and in a searchset's outcome entry.
func TestConsentScopeOfAPart2Element(t *testing.T) {
	t.Parallel()
	searchset := `{"resourceType":"Bundle","type":"searchset","entry":[{"fullUrl":"Claim/claim-d","resource":` + claimWithPart2Diagnosis + `,"search":{"mode":"match"}}]}`
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/Claim") {
			fhirJSONHandler(200, searchset)(w, r)
			return
		}
		fhirJSONHandler(200, claimWithPart2Diagnosis)(w, r)
	})
	const want = ConsentScopeNotice + "; Disclosed with the patient's written consent. Consent/c1 version 1; it permits disclosure to Organization/org-a for the purposes TREAT."
	for _, path := range []string{"/fhir/Claim/claim-d", "/fhir/Claim?patient=Patient/p1"} {
		resp, body := h.get(path, tokConsented)
		if resp.StatusCode != 200 || !strings.Contains(body, "F11.20") {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		var part2 bool
		for _, v := range resp.Header.Values(NoticeHeader) {
			part2 = part2 || strings.HasPrefix(v, "42CFR2.32;")
		}
		if got := scopeHeader(resp); !part2 || got != want {
			t.Errorf("%s: notices %q, want the 2.32 notice and %q", path, resp.Header.Values(NoticeHeader), want)
		}
		if strings.Contains(path, "?") && !strings.Contains(body, `"details":{"text":"`+ConsentScopeNotice+`"}`) {
			t.Errorf("%s: the outcome entry lacks the scope notice: %s", path, body)
		}
	}
}
