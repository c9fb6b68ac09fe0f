package proxy

import (
	"strings"
	"testing"
)

// A history Bundle whose only resource is withheld answers as an empty
// history does: its deletion entry goes with the withheld version, and
// Bundle.total counts neither.
func TestHistoryTotalCountsDroppedDeletions(t *testing.T) {
	t.Parallel()
	withheld := newHarness(t, fhirJSONHandler(200, `{"resourceType":"Bundle","type":"history","total":2,"entry":[
	 {"request":{"method":"DELETE","url":"Condition/sud1"},"response":{"status":"204"}},
	 {"fullUrl":"Condition/sud1","resource":`+sudCondition+`,"request":{"method":"PUT","url":"Condition/sud1"}}]}`))
	empty := newHarness(t, fhirJSONHandler(200, `{"resourceType":"Bundle","type":"history","total":0}`))
	r1, b1 := withheld.get("/fhir/_history", tokOther)
	r2, b2 := empty.get("/fhir/_history", tokOther)
	if r1.StatusCode != 200 || r1.StatusCode != r2.StatusCode || b1 != b2 {
		t.Fatalf("history of a withheld resource %d %s\nempty history %d %s", r1.StatusCode, b1, r2.StatusCode, b2)
	}
	if strings.Contains(b1, "sud1") {
		t.Fatalf("names the withheld resource: %s", b1)
	}
}
