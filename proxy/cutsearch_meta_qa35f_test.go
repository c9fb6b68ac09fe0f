package proxy

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// QA round 35 (area F): a Patient that a Part 2 program recorded (its
// meta.source names the program) has meta.source cut silently for a
// caller who may not read the program's records. The cut-search rule
// counted every parameter reading meta (_lastUpdated, _tag, _profile,
// _security, and _sort by one) as reading the cut, so
// Patient?_sort=-_lastUpdated or Patient?_lastUpdated=gt2020 left out
// exactly the program's patients that Patient?name=Doe and the read show:
// the absence told the enrolment. Those parameters read meta.lastUpdated,
// tag, profile or security, never meta.source, so the match stands;
// _source, which reads the cut member, still withholds it.
func TestEnrolledPatientMetaSearchQA35F(t *testing.T) {
	t.Parallel()
	pat := `{"resourceType":"Patient","id":"p1","meta":{"versionId":"1","lastUpdated":"2024-01-01T00:00:00Z","source":"https://riverside-recovery.example/ehr#a1",` +
		`"tag":[{"system":"urn:t","code":"vip"}],"profile":["http://example.org/p"]},"name":[{"family":"Doe"}]}`
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/Patient") {
			fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome"}`)(w, r)
			return
		}
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"fullUrl":"x","resource":`+pat+`,"search":{"mode":"match"}}]}`)(w, r)
	}, withProgramSource)
	for _, c := range []struct {
		query string
		found bool
	}{
		{"name=Doe", true},
		{"_lastUpdated=gt2020-01-01", true},
		{"name=Doe&_sort=-_lastUpdated", true},
		{"_sort=_lastUpdated,name", true},
		{"_tag=urn:t|vip", true},
		{"_profile=http://example.org/p", true},
		{"_lastUpdated=gt2020-01-01&name=Doe", true},
		// reads the cut meta.source: refused (searchguard.go) or withheld
		{"_source=https://riverside-recovery.example/ehr", false},
		{"_sort=_source", false},
		{"_lastUpdated=gt2020-01-01&_source=https://riverside-recovery.example/ehr", false},
	} {
		resp, body := h.get("/fhir/Patient?"+strings.ReplaceAll(url.PathEscape(c.query), "%26", "&"), tokOther)
		if !c.found && resp.StatusCode == http.StatusForbidden {
			continue
		}
		if resp.StatusCode != http.StatusOK || strings.Contains(body, "riverside") {
			t.Errorf("%s: %d %s", c.query, resp.StatusCode, body)
			continue
		}
		if found := strings.Contains(body, `"id":"p1"`); found != c.found {
			t.Errorf("%s: found %v, want %v: %s", c.query, found, c.found, body)
		}
	}
}
