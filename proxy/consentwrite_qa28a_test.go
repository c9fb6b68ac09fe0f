package proxy

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// Consent writes through /fhir and the upstream consents ds4p keeps
// (consent_upstream.go consentWriting). fhir.go calls consentWriting around
// each forwarded request; these tests call it as fhir.go does.

// TestConsentWriteBypassesOnDemandCacheQA28A: with consents.upstream
// on_demand, a consent write through /fhir makes the responses that start
// while it is under way, and after it, read the patient's upstream consents
// afresh: a revocation ds4p answered counts at once, not after the consent
// TTL. What is read while a write is under way is not cached; after it,
// the cache serves again.
func TestConsentWriteBypassesOnDemandCacheQA28A(t *testing.T) {
	t.Parallel()
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour})
	granted := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	revoked := strings.Replace(strings.Replace(granted, `"status":"active"`, `"status":"inactive"`, 1), `"versionId":"1"`, `"versionId":"2"`, 1)
	u.fhir.set(200, granted)
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("granted upstream: %d", code)
	}
	// The control: revoked upstream directly, the cache holds the grant.
	u.fhir.set(200, revoked)
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("revoked upstream, within the TTL: %d, want 200 (cached; the test shows nothing)", code)
	}
	// Writes that are no consent's leave the cache alone.
	for _, w := range []struct {
		method string
		req    fhirRequest
	}{
		{http.MethodPut, fhirRequest{Interaction: Update, Type: "Observation", ID: "o1"}},
		{http.MethodGet, fhirRequest{Interaction: Read, Type: "Consent", ID: "u1"}},
		{http.MethodGet, fhirRequest{Interaction: Search, Type: "Consent"}},
	} {
		u.server.consentWriting(w.method, w.req)()
	}
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("after writes of no consent: %d, want 200 (cached)", code)
	}

	// The revocation through /fhir: under way, then answered.
	done := u.server.consentWriting(http.MethodPut, fhirRequest{Interaction: Update, Type: "Consent", ID: "u1"})
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Fatalf("while the revoking PUT is under way: %d, want 404", code)
	}
	// Granted again upstream before the PUT is answered: what the read
	// above found is not cached.
	u.fhir.set(200, strings.Replace(granted, `"versionId":"1"`, `"versionId":"3"`, 1))
	done()
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("after the write, granted again: %d, want 200 (read afresh: nothing read during the write is kept)", code)
	}
	u.fhir.set(200, revoked)
	done = u.server.consentWriting(http.MethodDelete, fhirRequest{Interaction: Delete, Type: "Consent", ID: "u1"})
	done()
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Fatalf("after ds4p answered a revocation: %d, want 404", code)
	}
	n := u.fhir.searches.Load()
	for range 3 {
		if code := u.read(tokConsented); code != http.StatusNotFound {
			t.Fatalf("revoked: %d", code)
		}
	}
	if got := u.fhir.searches.Load(); got != n {
		t.Errorf("%d Consent searches for three reads after the write ended, want none (cached again)", got-n)
	}
	// A batch or a system operation may write consents too.
	u.fhir.set(200, granted)
	u.server.consentWriting(http.MethodPost, fhirRequest{Interaction: Batch})()
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("after a batch: %d, want 200 (read afresh)", code)
	}
}

// TestConsentWriteBypassesSyncMirrorQA28A: with consents.upstream sync, a
// consent write through /fhir makes responses read the patient's upstream
// consents afresh until a sync round begun after the write has ended (a
// full one after a deletion, which an incremental round does not see); the
// round is asked for at once.
func TestConsentWriteBypassesSyncMirrorQA28A(t *testing.T) {
	t.Parallel()
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamSync, SyncInterval: time.Hour})
	sc := u.server.consents.(*sourcedConsents)
	bg := context.Background()
	var since time.Time
	round := 0
	granted := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	revoked := strings.Replace(strings.Replace(granted, `"status":"active"`, `"status":"inactive"`, 1), `"versionId":"1"`, `"versionId":"2"`, 1)
	u.fhir.set(200, granted)
	if err := sc.syncRound(bg, &since, &round); err != nil { // full
		t.Fatal(err)
	}
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("granted upstream: %d", code)
	}
	u.fhir.set(200, revoked)
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("revoked upstream before a round: %d, want 200 (the mirror; the test shows nothing)", code)
	}
	u.server.consentWriting(http.MethodPut, fhirRequest{Interaction: Update, Type: "Consent", ID: "u1"})()
	select {
	case <-sc.written.kick:
	default:
		t.Error("the write's end asked for no sync round")
	}
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Fatalf("after ds4p answered the revoking PUT: %d, want 404", code)
	}
	if err := sc.syncRound(bg, &since, &round); err != nil { // incremental
		t.Fatal(err)
	}
	n := u.fhir.searches.Load()
	if code := u.read(tokConsented); code != http.StatusNotFound || u.fhir.searches.Load() != n {
		t.Fatalf("after a round: %d, %d searches, want 404 from the mirror", code, u.fhir.searches.Load()-n)
	}

	// A deletion (the consent gone upstream): an incremental round does
	// not see it, a full one does.
	u.fhir.set(200, granted)
	if err := sc.syncRound(bg, &since, &round); err != nil {
		t.Fatal(err)
	}
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("granted again: %d", code)
	}
	u.fhir.set(200)
	u.server.consentWriting(http.MethodDelete, fhirRequest{Interaction: Delete, Type: "Consent", ID: "u1"})()
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Fatalf("after ds4p answered the DELETE: %d, want 404", code)
	}
	if err := sc.syncRound(bg, &since, &round); err != nil { // full: asked for by the deletion
		t.Fatal(err)
	}
	n = u.fhir.searches.Load()
	if code := u.read(tokConsented); code != http.StatusNotFound || u.fhir.searches.Load() != n {
		t.Fatalf("after the round: %d, %d searches, want 404 from the mirror (a full round: the deleted consent gone)", code, u.fhir.searches.Load()-n)
	}
}

// TestConsentReadRacingWriteNotCachedQA28A: an on_demand read of a
// patient's upstream consents that began before a consent write through
// /fhir and ends after ds4p answered it may hold the consents as they were
// before the write: it answers its own response (begun before the write's
// answer) but is not cached for later ones.
func TestConsentReadRacingWriteNotCachedQA28A(t *testing.T) {
	t.Parallel()
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour})
	granted := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	revoked := strings.Replace(strings.Replace(granted, `"status":"active"`, `"status":"inactive"`, 1), `"versionId":"1"`, `"versionId":"2"`, 1)
	u.fhir.set(200, granted)

	u.fhir.mu.Lock() // the upstream answers the Consent search once released
	first := make(chan int, 1)
	go func() { first <- u.read(tokConsented) }()
	for u.fhir.searches.Load() == 0 { // the search has reached the upstream
		time.Sleep(time.Millisecond)
	}
	u.server.consentWriting(http.MethodPut, fhirRequest{Interaction: Update, Type: "Consent", ID: "u1"})() // answered
	u.fhir.mu.Unlock()
	if code := <-first; code != http.StatusOK {
		t.Fatalf("the read begun before the write: %d, want 200 (the consents as it read them)", code)
	}
	u.fhir.set(200, revoked) // what the write did, as the next search finds it
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Fatalf("a read begun after ds4p answered the revocation: %d, want 404: a read begun before the write was cached", code)
	}
}

// TestActorWriteClearsResolvedActorsQA28A: with consents.resolve_actors,
// the identifiers of an actor a consent names are read from the upstream
// and cached for the TTL; a write of that actor through /fhir (its NPI
// corrected, say) makes them be read again once ds4p answered it, and the
// consents expanded with them built again. Writes of other types leave
// them alone.
func TestActorWriteClearsResolvedActorsQA28A(t *testing.T) {
	t.Parallel()
	u := newUpstreamSetup(t, ConsentSources{ResolveActors: true, TTL: time.Hour})
	sc := u.server.consents.(*sourcedConsents)
	ctx := context.Background()
	const stale = "http://hl7.org/fhir/sid/us-npi|9999999999"
	// Resolved before the upstream's Organization changed.
	sc.resolver.cache.add("Organization/org-a", actorEntry{forms: []string{"Organization/org-a", stale}, known: true})
	sc.merged.add("Patient/p1", mergedEntry{})
	forms := func() []string {
		t.Helper()
		f, _, err := sc.resolver.ActorForms(ctx, "Organization/org-a")
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	u.server.consentWriting(http.MethodPut, fhirRequest{Interaction: Update, Type: "Observation", ID: "o1"})()
	if f := forms(); !slices.Contains(f, stale) || sc.merged.len() != 1 {
		t.Fatalf("after a write of an Observation: forms %v, %d merged: want the cached ones (the test shows nothing)", f, sc.merged.len())
	}
	u.server.consentWriting(http.MethodPut, fhirRequest{Interaction: Update, Type: "Organization", ID: "org-a"})()
	if f := forms(); slices.Contains(f, stale) || !slices.Contains(f, "http://hl7.org/fhir/sid/us-npi|1234567893") {
		t.Fatalf("after ds4p answered a write of Organization/org-a: forms %v, want those the upstream has now", f)
	}
	if n := sc.merged.len(); n != 0 {
		t.Fatalf("%d patients' merged consents kept after an actor write, want none", n)
	}
}
