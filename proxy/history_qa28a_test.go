package proxy

import (
	"net/http"
	"testing"
)

// TestHistoryDoesNotStandForCurrentQA28A: a type's history holding an older
// version of a resource the label cache never held (Condition/c1 at
// version 1, HIV) is labelled and noted as any response's resources, but
// does not stand for c1's current version (HIV and SUD): an order whose
// reason c1 is, read next, reads c1 first, as it would have without the
// history. (A vread of one resource reads its current version first, which
// the cache then holds: a0cd044 covers it.)
func TestHistoryDoesNotStandForCurrentQA28A(t *testing.T) {
	t.Parallel()
	v1 := `{"resourceType":"Condition","id":"c1","meta":{"versionId":"1"},"subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"B20"}]}}`
	v2 := `{"resourceType":"Condition","id":"c1","meta":{"versionId":"2"},"subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"B20"},{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`
	up := newRouted(map[string]string{
		"Condition/c1/_history/1": v1,
		"Condition/_history": `{"resourceType":"Bundle","type":"history","entry":[{"fullUrl":"http://x/fhir/R4/Condition/c1","resource":` + v1 +
			`,"request":{"method":"POST","url":"Condition"},"response":{"status":"201"}}]}`,
		"Condition/c1":          v2,
		"MedicationRequest/mr1": orderFor("mr1", "Condition/c1"),
	})
	h := newHarness(t, up.handle, withCache)
	// The type's history (a page of it holding c1 at version 1 only).
	if resp, body := h.get("/fhir/Condition/_history", tokConsented); resp.StatusCode != http.StatusOK {
		t.Fatalf("history: %d %s", resp.StatusCode, body)
	}
	if n := up.readsOf("Condition/_history"); n != 1 {
		t.Fatalf("the history reached the upstream %d times", n)
	}
	before := up.readsOf("Condition/c1")
	resp, body := h.get("/fhir/MedicationRequest/mr1", tokOther)
	if resp.StatusCode != http.StatusNotFound || body != string(notFoundBody("MedicationRequest", "mr1")) {
		t.Fatalf("order: %d %s", resp.StatusCode, body)
	}
	if n := up.readsOf("Condition/c1") - before; n != 1 {
		t.Fatalf("Condition/c1 read %d times for the order after a vread of its version 1, want once: the vread stood for the current version", n)
	}
}
