package proxy

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// TestRevokeSeenByEveryLaterRequestQA28A: readers hammer a Part 2 record
// its consent discloses (warming every cache: the store's, the engine's
// consent forms, decisions and fixed verdicts) while the consent is
// revoked through the consent API; every read that starts after the
// revocation was answered is withheld. Run with -race.
func TestRevokeSeenByEveryLaterRequestQA28A(t *testing.T) {
	t.Parallel()
	a := newConsentAPI(t, http.StatusOK)
	code, _, body := a.call(http.MethodPost, "/admin/Consent", strings.Replace(apiConsent, "ORG", "Organization/org-a", 1))
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	id, _, _ := resourceOf(t, body)
	if resp, body := a.get("/fhir/Condition/sud1", tokConsented); resp.StatusCode != http.StatusOK {
		t.Fatalf("consented read: %d %s", resp.StatusCode, body)
	}
	var revoked atomic.Bool // set once the revocation was answered
	var late atomic.Int64   // reads begun after it that disclosed
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				after := revoked.Load()
				resp, _ := a.get("/fhir/Condition/sud1", tokConsented)
				if after && resp.StatusCode == http.StatusOK {
					late.Add(1)
				}
			}
		}()
	}
	if code, _, body := a.call(http.MethodPost, "/admin/Consent/"+id+"/$revoke", ""); code != http.StatusOK {
		t.Fatalf("revoke: %d %s", code, body)
	}
	revoked.Store(true)
	for range 20 {
		if resp, body := a.get("/fhir/Condition/sud1", tokConsented); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("read after the revocation was answered: %d %s", resp.StatusCode, body)
		}
	}
	close(stop)
	wg.Wait()
	if n := late.Load(); n > 0 {
		t.Fatalf("%d reads begun after the revocation was answered disclosed the record", n)
	}
}
