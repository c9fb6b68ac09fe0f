package proxy

import (
	"strings"
	"testing"
)

// A Composition's section written as one object, not an array of one
// (invalid FHIR JSON, but a server may store it, and other readers take
// it as the array's one element), that names the withheld SUD Condition
// by its urn:uuid: the section's reference and its narrative ("Opioid use
// disorder") must not reach org-b, nor may a reference to an entry the
// Bundle no longer holds. The same for a relatesTo written as one object.
func TestDocumentSectionObjectWithheldEntry(t *testing.T) {
	t.Parallel()
	doc := func(extraComp, section string) string {
		return `{"resourceType":"Bundle","id":"ips1","type":"document","timestamp":"2026-01-01T00:00:00Z","entry":[` +
			`{"fullUrl":"urn:uuid:comp1","resource":{"resourceType":"Composition","id":"comp1","status":"final","type":{"coding":[{"system":"http://loinc.org","code":"60591-5"}]},"subject":{"reference":"Patient/p1"},"date":"2026-01-01","author":[{"display":"server"}],"title":"Patient Summary"` + extraComp + `,` +
			`"section":` + section + `}},` +
			`{"fullUrl":"urn:uuid:a1","resource":{"resourceType":"AllergyIntolerance","id":"a1","patient":{"reference":"Patient/p1"}}},` +
			`{"fullUrl":"urn:uuid:cond1","resource":` + sudCondition + `}]}`
	}
	const problems = `{"title":"Problems","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Opioid use disorder</div>"},"entry":[{"reference":"urn:uuid:cond1"}]}`
	const allergies = `{"title":"Allergies","entry":[{"reference":"urn:uuid:a1"}]}`
	for name, c := range map[string][2]string{
		"section object":        {"", problems},
		"nested section object": {"", `[` + allergies + `,{"title":"More","section":` + problems + `}]`},
		"entry object":          {"", `[` + strings.Replace(problems, `[{"reference":"urn:uuid:cond1"}]`, `{"reference":"urn:uuid:cond1"}`, 1) + `,` + allergies + `]`},
		"relatesTo object":      {`,"relatesTo":{"code":"appends","targetReference":{"reference":"urn:uuid:cond1"}}`, `[` + allergies + `]`},
	} {
		h := newHarness(t, routes(map[string]string{"/fhir/R4/Patient/p1/$summary": doc(c[0], c[1]), "/fhir/R4/Patient/p1": `{"resourceType":"Patient","id":"p1"}`}))
		resp, body := h.get("/fhir/Patient/p1/$summary", tokOther)
		if strings.Contains(body, "Opioid") || strings.Contains(body, "cond1") || strings.Contains(body, "F11.20") {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
		if resp.StatusCode != 200 && resp.StatusCode != 404 {
			t.Errorf("%s: %d %s, want the document disclosed cut, or withheld as missing", name, resp.StatusCode, body)
		}
		t.Logf("%s: %d", name, resp.StatusCode)
	}
}
