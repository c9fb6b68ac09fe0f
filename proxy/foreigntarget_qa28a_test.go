package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestForeignTargetIsNotKnownAsOrdinaryQA28A: a reference to another
// server's resource names its Type/id as a local reference to the
// upstream's own resource of that Type/id does (ids such as "1" collide
// across servers). ds4p cannot read the other server's resource, so it
// passes nothing on; that must not make the label cache take the local
// resource of that Type/id as known to pass nothing on: the next response
// referring to the local one (an SUD Condition never seen by the cache)
// would label its referrer from nothing and disclose it as ordinary.
func TestForeignTargetIsNotKnownAsOrdinaryQA28A(t *testing.T) {
	t.Parallel()
	up := newRouted(map[string]string{
		// An order naming another server's Condition/sud1 (its reason as
		// a referring HIE wrote it), and one naming the upstream's own.
		"MedicationRequest/foreign": orderFor("foreign", "https://other-ehr.example.org/fhir/Condition/sud1"),
		"MedicationRequest/mr1":     orderFor("mr1", "Condition/sud1"),
		"Condition/sud1":            sudCondition,
	})
	h := newHarness(t, up.handle, withCache)
	// Whatever it answers (the upstream's Condition/sud1 labels it now):
	// not a failure.
	resp, body := h.get("/fhir/MedicationRequest/foreign", tokOther)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNotFound {
		t.Fatalf("order naming another server's condition: %d %s", resp.StatusCode, body)
	}
	resp, body = h.get("/fhir/MedicationRequest/mr1", tokOther)
	if resp.StatusCode != http.StatusNotFound || body != string(notFoundBody("MedicationRequest", "mr1")) {
		t.Fatalf("order of an SUD condition after an order naming another server's condition of the same id, caller without consent: %d %s",
			resp.StatusCode, body)
	}
}

// TestForeignAndLocalTargetInOneResponseQA28A: one response holding an
// order that names another server's Condition/sud1 and, after it, one that
// names the upstream's own Condition/sud1 (SUD): the local one is read and
// its order withheld from a caller without consent, whatever order the
// references come in. Without a label cache too.
func TestForeignAndLocalTargetInOneResponseQA28A(t *testing.T) {
	t.Parallel()
	for _, cached := range []bool{false, true} {
		up := newRouted(map[string]string{
			"MedicationRequest": bundle("http://x/fhir/R4", 2, false,
				orderFor("foreign", "https://other-ehr.example.org/fhir/Condition/sud1"), orderFor("mr1", "Condition/sud1")),
			"Condition/sud1": sudCondition,
		})
		var h *harness
		if cached {
			h = newHarness(t, up.handle, withCache)
		} else {
			h = newHarness(t, up.handle)
		}
		resp, body := h.get("/fhir/MedicationRequest?patient=Patient/p1", tokOther)
		if resp.StatusCode != http.StatusOK || strings.Contains(body, `"id":"mr1"`) || strings.Contains(body, "Condition/sud1") {
			t.Fatalf("cache %v: the order of the upstream's SUD condition in one response with an order naming another server's: %d %s",
				cached, resp.StatusCode, body)
		}
	}
}
