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

// TestIdentifierCheckKeepsListingSinceQA34F: on demand, while the
// known-answer check of Consent?patient:identifier= is unverified, the
// consents written since are listed when a response finds the listing
// due. After 10 minutes with no such response the next one runs the full
// check instead, which reads at most 10 pages of Consent?_count=100 and
// moved the time listed from on to its own answer: consents written
// meanwhile past its 10th page were never listed, and an opt-out by p1's
// MRN there left org-a reading p1's SUD condition under its permit (200).
// A check that leaves pages unread now keeps the time listed from.
func TestIdentifierCheckKeepsListingSinceQA34F(t *testing.T) {
	t.Parallel()
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Nanosecond, PatientIdentifierSystem: "urn:mrn"})
	searchingFHIR(u)
	inner := u.upstream.Config.Handler
	base := u.upstream.URL + "/fhir/R4/Consent"
	var (
		mu      sync.Mutex
		written bool // the 1100 consents are written
	)
	page := func(n int) string {
		entry := upstreamConsent("b"+strconv.Itoa(n), "1", "2026-03-01T00:00:00Z", "Organization/org-a")
		if n == 11 {
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
		mu.Lock()
		wr := written
		mu.Unlock()
		switch {
		case r.URL.Path == "/fhir/R4/Consent" && q.Has("patient:identifier"):
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","total":0}`)(w, r)
			return
		case r.URL.Path == "/fhir/R4/Consent" && q.Has("page"):
			n, _ := strconv.Atoi(q.Get("page"))
			fhirJSONHandler(http.StatusOK, page(n))(w, r)
			return
		case r.URL.Path == "/fhir/R4/Consent" && wr && !q.Has("patient") && q.Get("_id") == "":
			// The check's read, and a listing from before they were
			// written (30 minutes ago).
			gt, err := time.Parse(time.RFC3339, strings.TrimPrefix(q.Get("_lastUpdated"), "gt"))
			if !q.Has("_lastUpdated") || err == nil && gt.Before(time.Now().Add(-30*time.Minute)) {
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
	mu.Lock()
	written = true
	mu.Unlock()
	// An hour on, no response having needed the search: the full check is
	// due; it reads 10 pages and finds no consent by MRN alone.
	m.identifierProbeSem <- struct{}{}
	m.identifierProbedAt = m.identifierProbedAt.Add(-m.identifierProbeEvery)
	m.identifierListSince = m.identifierListSince.Add(-time.Hour) // listed last an hour ago
	<-m.identifierProbeSem
	m.identifierTrustUntil.Store(0)
	var codes []int
	for range 3 {
		m.identifierListAt.Store(0) // the listing is due (as 10 seconds on)
		resp, body := u.get("/fhir/Condition/sud1", tokConsented)
		codes = append(codes, resp.StatusCode)
		if strings.Contains(body, "F11.20") {
			t.Errorf("the SUD condition went out with an opt-out by p1's MRN past the check's 10th page: %d %s", resp.StatusCode, body)
		}
	}
	if codes[len(codes)-1] == http.StatusOK {
		t.Errorf("codes %v: want the last response withheld", codes)
	}
	if m.identifierProbe.Load() != identifierSearchIgnores {
		t.Error("the opt-out was not listed: the search was not found ignoring the modifier")
	}
}
