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
	cond := func(id, code, display string) []byte {
		return []byte(`{"resourceType":"Condition","id":"` + id + `","subject":{"reference":"` + sudPatient + `"},` +
			`"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"` + code + `","display":"` + display + `"}]}}`)
	}
	// Newest first: h1's SUD version, h3, h2, h1's ordinary one. With two
	// a page, h1's ordinary version shares its page with h2, whose current
	// versions the proxy asks for by one Condition?_id= search.
	e.upstream.Put(t, cond("qa31l-h1", "M54.5", "Low back pain qa31l-old"))
	e.upstream.Put(t, cond("qa31l-h2", "M54.5", "Low back pain qa31l-h2"))
	e.upstream.Put(t, cond("qa31l-h3", "M54.5", "Low back pain qa31l-h3"))
	e.upstream.Put(t, cond("qa31l-h1", "F11.20", "Opioid dependence qa31l"))
	for _, c := range []struct {
		caller, count string
		wantSeen      bool
	}{{"other", "1", false}, {"other", "2", false}, {"consented", "1", true}, {"consented", "2", true}} {
		caller, wantSeen := c.caller+" _count="+c.count, c.wantSeen
		url := "/fhir/Condition/_history?_since=" + since + "&_count=" + c.count
		var all strings.Builder
		for pages := 0; url != ""; pages++ {
			if pages > 200 {
				t.Fatalf("%s: the history does not end", caller)
			}
			r := e.get(t, url, c.caller)
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
		if !strings.Contains(got, "qa31l-h2") || !strings.Contains(got, "qa31l-h3") {
			t.Errorf("%s: the ordinary Conditions are missing", caller)
		}
	}
}
