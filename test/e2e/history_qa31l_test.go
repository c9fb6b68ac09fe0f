package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func init() {
	register("TypeHistoryAcrossPagesQA31L", testTypeHistoryAcrossPagesQA31L)
}

// testTypeHistoryAcrossPagesQA31L: a Condition first stored with an
// ordinary code and then given an SUD one. Paging the type history one
// version a page, Medplum lists the SUD version on one page and the
// ordinary one on the next; the caller without consent sees neither (the
// older one alone showed that a Condition which reads as missing exists),
// the consented caller sees both.
func testTypeHistoryAcrossPagesQA31L(t *testing.T, e *env) {
	since := time.Now().UTC().Add(-2 * time.Second).Format(time.RFC3339)
	cond := func(code, display string) []byte {
		return []byte(`{"resourceType":"Condition","id":"qa31l-h1","subject":{"reference":"` + sudPatient + `"},` +
			`"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"` + code + `","display":"` + display + `"}]}}`)
	}
	e.upstream.Put(t, cond("M54.5", "Low back pain qa31l-old"))
	e.upstream.Put(t, cond("F11.20", "Opioid dependence qa31l"))
	for caller, wantSeen := range map[string]bool{"other": false, "consented": true} {
		url := "/fhir/Condition/_history?_since=" + since + "&_count=1"
		var all strings.Builder
		for pages := 0; url != ""; pages++ {
			if pages > 200 {
				t.Fatalf("%s: the history does not end", caller)
			}
			r := e.get(t, url, caller)
			if r.Status != http.StatusOK {
				t.Fatalf("%s page %d: %d %s", caller, pages, r.Status, r.Body)
			}
			all.Write(r.Body)
			url = nextLink(t, r.json(t))
		}
		got := all.String()
		for _, s := range []string{"qa31l-old", "Opioid dependence qa31l"} {
			if strings.Contains(got, s) != wantSeen {
				t.Errorf("%s: %q listed %v, want %v", caller, s, !wantSeen, wantSeen)
			}
		}
		if !wantSeen && strings.Contains(got, "qa31l-h1") {
			t.Errorf("%s: the history names the withheld Condition", caller)
		}
	}
}
