package proxy

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/policy"
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
