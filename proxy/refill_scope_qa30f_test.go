package proxy

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// QA round 30 (area F), on e2ff308 (no change in behaviour): a page refilled
// from the upstream's next link stays within the caller's scopes
// (pageInScope), and an ordinary refill within them still works: a search
// restricted as a SMART v2 scope restricts it (user/Condition.rs?category=
// problem-list-item), paged by the server by _offset (Medplum, HAPI) or by
// a handle at its base (HAPI's _getpages, judged by the search that began
// the chain), whose first page loses a withheld match.
func TestRefillWithinARestrictedScopeQA30F(t *testing.T) {
	t.Parallel()
	for _, handle := range []bool{false, true} {
		var h *harness
		h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
			q := r.URL.Query()
			from := 0
			if o := q.Get("_offset") + q.Get("_getpagesoffset"); o != "" {
				from, _ = strconv.Atoi(o)
			}
			next := h.base() + "/Condition?category=problem-list-item&_count=2&_offset=" + strconv.Itoa(from+2)
			if handle {
				next = h.base() + "?_getpages=abc&_getpagesoffset=" + strconv.Itoa(from+2)
			}
			var entries []string
			for i := from; i < from+2 && i < 6; i++ {
				entries = append(entries, match(refillCond("c"+strconv.Itoa(i), i == 1)))
			}
			link := `[{"relation":"self","url":"` + h.base() + `/Condition?category=problem-list-item&_count=2"}`
			if from+2 < 6 {
				link += `,{"relation":"next","url":"` + next + `"}`
			}
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","link":`+link+`],"entry":[`+strings.Join(entries, ",")+`]}`)(w, r)
		})
		resp, body := h.get("/fhir/Condition?category=problem-list-item&_count=2", "Organization/org-b|TREAT|user/Condition.rs?category=problem-list-item")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"c0"`) || !strings.Contains(body, `"c2"`) || strings.Contains(body, `"c1"`) {
			t.Errorf("handle %v: a refill within the caller's scope: %d %s", handle, resp.StatusCode, body)
		}
	}
}
