package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

func init() { register("SearchOnCutElement", testSearchOnCutElement) }

// testSearchOnCutElement: the server matches a search on the stored
// element, so an Observation whose date (inline-labelled, cut for the
// other caller) is after June answered date=gt2024-06-01 and not
// date=lt2024-06-01, and its place in _sort=date told the date: the cut
// match itself told the withheld value. Both answer without it now; a
// search that does not read the date answers it, cut. (The test server
// refuses quantity searches, 400, so value-quantity=gt100, the same case,
// is in proxy/cutsearch_qa22e_test.go.)
func testSearchOnCutElement(t *testing.T, e *env) {
	label := `"extension":[{"url":"` + inlineLabelURL + `","valueCoding":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HIV"}}]`
	meta := `"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PROCESSINLINELABEL"}]}`
	obs := func(id, extra string) []byte {
		return []byte(`{"resourceType":"Observation","id":"` + id + `",` + extra + `"status":"final","code":{"coding":[{"system":"http://loinc.org","code":"qa22e-1"}]},"subject":{"reference":"` + sudPatient + `"}}`)
	}
	e.upstream.Put(t,
		obs("qa22e-cut", meta+`,"effectiveDateTime":"2024-09-17","_effectiveDateTime":{`+label+`},`),
		obs("qa22e-low", `"effectiveDateTime":"2024-01-05",`),
		obs("qa22e-high", `"effectiveDateTime":"2024-12-20",`),
	)
	// The setting: the other caller reads it with the date cut.
	r := e.get(t, "/fhir/Observation/qa22e-cut", "other")
	if r.Status != http.StatusOK || strings.Contains(string(r.Body), "2024-09-17") || !strings.Contains(string(r.Body), "REDACTED") {
		t.Fatalf("read as other: %d %s", r.Status, r.Body)
	}
	base := "/fhir/Observation?subject=" + sudPatient + "&code=http://loinc.org|qa22e-1"
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"&date=gt2024-06-01", []string{"Observation/qa22e-high"}},
		{"&date=lt2024-06-01", []string{"Observation/qa22e-low"}},
		{"&_sort=date", []string{"Observation/qa22e-low", "Observation/qa22e-high"}},
		{"&date:missing=false", []string{"Observation/qa22e-high", "Observation/qa22e-low"}},
		{"", []string{"Observation/qa22e-cut", "Observation/qa22e-high", "Observation/qa22e-low"}},
	} {
		r := e.get(t, base+c.query, "other")
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", c.query, r.Status, r.Body)
		}
		got := ids(t, r.json(t))
		if !strings.Contains(c.query, "_sort") {
			slices.Sort(got)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%q as other: %v, want %v", c.query, got, c.want)
		}
		mustNotContain(t, c.query, r, "2024-09-17")
	}
	// The consented caller's answers are the server's.
	if got := ids(t, e.get(t, base+"&date=gt2024-06-01", "consented").json(t)); !slices.Contains(got, "Observation/qa22e-cut") {
		t.Errorf("date=gt2024-06-01 as consented: %v", got)
	}
}
