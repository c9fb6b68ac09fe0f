package proxy

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestIdentifierListingPagesLeftQA34F: on demand, while the known-answer
// check of Consent?patient:identifier= is unverified, the consents written
// since are listed (Consent?_lastUpdated=gt...). The listing read at most
// 10 pages and still moved the time it lists from on: a burst of more than
// 1000 consents left page 11 on unread for good, and an opt-out by p1's
// MRN there never ran the check; org-a went on reading p1's SUD condition
// under its permit (200). The next listing now goes on from the page left,
// and the response whose listing left pages is withheld.
func TestIdentifierListingPagesLeftQA34F(t *testing.T) {
	t.Parallel()
	u, m, burst := pagedListingQA34F(t, true)
	burst()
	var codes []int
	for range 2 {
		m.identifierListAt.Store(0) // the listing is due (as 10 seconds on)
		resp, body := u.get("/fhir/Condition/sud1", tokConsented)
		codes = append(codes, resp.StatusCode)
		if strings.Contains(body, "F11.20") {
			t.Errorf("the SUD condition went out with an opt-out by p1's MRN on page 11 of the listing: %d %s", resp.StatusCode, body)
		}
	}
	if codes[len(codes)-1] == http.StatusOK {
		t.Errorf("codes %v: want the response after the listing withheld", codes)
	}
	if m.identifierProbe.Load() != identifierSearchIgnores {
		t.Error("the opt-out on page 11 did not run the check: the search was not found ignoring the modifier")
	}
}

// TestIdentifierListingPagesLeftWriteQA34F: a consent write through ds4p
// that ends while a listing with pages left is under way leaves the
// listing due at once when its last page is read, as it does after a
// listing read in one go: the opt-out it wrote by p1's MRN, stamped after
// the listing began, is in none of the pages left.
func TestIdentifierListingPagesLeftWriteQA34F(t *testing.T) {
	t.Parallel()
	u, m, burst := pagedListingQA34F(t, false)
	burst()
	m.identifierListAt.Store(0)
	u.get("/fhir/Condition/sud1", tokConsented) // pages 1 to 10
	done := u.server.consentWriting(http.MethodPut, fhirRequest{Type: "Consent", ID: "u2", Interaction: Update})
	u.fhir.set(http.StatusOK, upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"), mrnOptOut)
	done()
	u.get("/fhir/Condition/sud1", tokConsented) // page 11
	resp, body := u.get("/fhir/Condition/sud1", tokConsented)
	if resp.StatusCode == http.StatusOK || strings.Contains(body, "F11.20") {
		t.Errorf("an opt-out by p1's MRN written through ds4p during the listing: %d %s, want the response withheld", resp.StatusCode, body)
	}
	if m.identifierProbe.Load() != identifierSearchIgnores {
		t.Error("the search was not found ignoring the modifier")
	}
}

// pagedListingQA34F is an on-demand proxy whose upstream answers
// Consent?patient:identifier= without honouring the modifier, its
// known-answer check ended unverified; after burst, the next listing of
// the consents written since has 11 pages of one consent each, the last
// an opt-out by p1's MRN when optOut.
func pagedListingQA34F(t *testing.T, optOut bool) (*upstreamSetup, *sourcedConsents, func()) {
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Nanosecond, PatientIdentifierSystem: "urn:mrn"})
	searchingFHIR(u)
	inner := u.upstream.Config.Handler
	base := u.upstream.URL + "/fhir/R4/Consent"
	var (
		mu    sync.Mutex
		burst bool // the burst is written: the first listing after it finds it
	)
	page := func(n int) string {
		entry := upstreamConsent("b"+strconv.Itoa(n), "1", "2026-03-01T00:00:00Z", "Organization/org-a")
		if n == 11 && optOut {
			entry = mrnOptOut
		}
		next := ""
		if n < 11 {
			next = fmt.Sprintf(`"link":[{"relation":"next","url":"%s?_count=100&page=%d"}],`, base, n+1)
		}
		return `{"resourceType":"Bundle","type":"searchset",` + next + `"entry":[{"resource":` + entry + `}]}`
	}
	u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case r.URL.Path == "/fhir/R4/Consent" && q.Has("patient:identifier"):
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","total":0}`)(w, r)
			return
		case r.URL.Path == "/fhir/R4/Consent" && q.Has("page"):
			n, _ := strconv.Atoi(q.Get("page"))
			fhirJSONHandler(http.StatusOK, page(n))(w, r)
			return
		case r.URL.Path == "/fhir/R4/Consent" && q.Has("_lastUpdated"):
			mu.Lock()
			b := burst
			burst = false
			mu.Unlock()
			if b {
				fhirJSONHandler(http.StatusOK, page(1))(w, r)
				return
			}
		}
		inner.ServeHTTP(w, r)
	})
	u.fhir.set(http.StatusOK, upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a"))
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("under the permit, no consent by MRN to check with: %d, want 200", code)
	}
	m := u.server.consents.(*sourcedConsents)
	if m.identifierProbe.Load() != identifierSearchUnverified {
		t.Fatal("the check did not end unverified")
	}
	return u, m, func() {
		mu.Lock()
		burst = true
		mu.Unlock()
	}
}
