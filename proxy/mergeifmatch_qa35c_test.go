package proxy

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// TestMergedUpdateIfMatchOtherVersionQA35C: an update merged with the
// caller's view of the stored version goes only over that version, even
// when the caller sends its own If-Match naming another one (412, nothing
// written). The caller's If-Match was forwarded as it was: org-b, which
// reads eob1 without its SUD diagnosis, sent its update of version 1 with
// If-Match W/"2"; another writer made version 2 (adding a second SUD
// diagnosis) between the proxy's read and the write, and the write went
// over version 2, storing version 1's diagnoses: the one added was lost.
// In a batch entry alike (request.ifMatch). The caller's If-Match naming
// the version merged still goes.
func TestMergedUpdateIfMatchOtherVersionQA35C(t *testing.T) {
	t.Parallel()
	const fj = "application/fhir+json"
	const added = `"diagnosis":[{"sequence":9,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F10.20"}]}},`
	setup := func(t *testing.T) (*storeUpstream, *harness, *atomic.Bool, string) {
		up := newStoreUpstream(map[string]string{"ExplanationOfBenefit/eob1": storedEOB, "Patient/p1": `{"resourceType":"Patient","id":"p1"}`})
		var race atomic.Bool // the next read of eob1 is followed by another writer's update
		h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
			up.handler(w, r)
			if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/ExplanationOfBenefit/eob1") && race.CompareAndSwap(true, false) {
				up.mu.Lock()
				up.put("ExplanationOfBenefit/eob1", strings.Replace(up.res["ExplanationOfBenefit/eob1"], `"diagnosis":[`, added, 1), "")
				up.ifMatch = nil
				up.mu.Unlock()
			}
		})
		resp, view := h.get("/fhir/ExplanationOfBenefit/eob1", tokOtherWriter)
		if resp.StatusCode != 200 || strings.Contains(view, "F11.20") {
			t.Fatalf("read: %d %s", resp.StatusCode, view)
		}
		return up, h, &race, strings.Replace(view, `"outcome":"complete"`, `"outcome":"partial"`, 1)
	}
	t.Run("update", func(t *testing.T) {
		t.Parallel()
		up, h, race, edited := setup(t)
		race.Store(true)
		resp, got := h.sendH(http.MethodPut, "/fhir/ExplanationOfBenefit/eob1", tokOtherWriter, fj, edited, "If-Match", `W/"2"`)
		stored := up.get("ExplanationOfBenefit/eob1")
		if resp.StatusCode != http.StatusPreconditionFailed || !strings.Contains(stored, "F10.20") || strings.Contains(stored, `"partial"`) {
			t.Fatalf("want 412 and version 2 kept: %d %s\nstored: %s", resp.StatusCode, got, stored)
		}
	})
	t.Run("batch", func(t *testing.T) {
		t.Parallel()
		up, h, race, edited := setup(t)
		race.Store(true)
		batch := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"PUT","url":"ExplanationOfBenefit/eob1","ifMatch":"W/\"2\""},"resource":` + edited + `}]}`
		resp, got := h.send(http.MethodPost, "/fhir", tokOtherWriter, fj, batch)
		stored := up.get("ExplanationOfBenefit/eob1")
		if resp.StatusCode != http.StatusPreconditionFailed || !strings.Contains(stored, "F10.20") || strings.Contains(stored, `"partial"`) {
			t.Fatalf("want 412 and version 2 kept: %d %s\nstored: %s", resp.StatusCode, got, stored)
		}
	})
	t.Run("the version merged goes", func(t *testing.T) {
		t.Parallel()
		up, h, _, edited := setup(t)
		resp, got := h.sendH(http.MethodPut, "/fhir/ExplanationOfBenefit/eob1", tokOtherWriter, fj, edited, "If-Match", `W/"1"`)
		if stored := up.get("ExplanationOfBenefit/eob1"); resp.StatusCode != http.StatusOK || !strings.Contains(stored, `"partial"`) || !strings.Contains(stored, "F11.20") {
			t.Fatalf("an update with If-Match of the version read: %d %s\nstored: %s", resp.StatusCode, got, stored)
		}
	})
}
