package proxy

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

func withProgramSource(o *Options, d *Deps) {
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), CacheSize: 100,
		Programs: []labels.Program{{Name: "clinic", References: []string{"Organization/p2"}, Sources: []string{"https://riverside-recovery.example/"}}}})
	if err != nil {
		panic(err)
	}
	d.Labeller = l
}

// QA round 30 (area F), on 0115cdb: Patient?_source=<a Part 2 program's
// source> is refused because a Patient is never withheld and its
// meta.source names the program that recorded it. The Patient itself, read
// or found by any other search, still carried that meta.source to a caller
// who may not read the program's records: the person is the program's
// patient (42 CFR 2.13(c)), as a managingOrganization naming the program
// says, which is cut.
func TestPatientSourceOfAProgramQA30F(t *testing.T) {
	t.Parallel()
	pat := `{"resourceType":"Patient","id":"p1","meta":{"versionId":"1","source":"https://riverside-recovery.example/ehr#a1b2"},"name":[{"family":"Doe"}]}`
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/Patient/p1") {
			fhirJSONHandler(200, pat)(w, r)
			return
		}
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"fullUrl":"x","resource":`+pat+`,"search":{"mode":"match"}}]}`)(w, r)
	}, withProgramSource)
	for _, path := range []string{"/fhir/Patient/p1", "/fhir/Patient?family=Doe"} {
		resp, body := h.get(path, tokOther)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"Doe"`) {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		if strings.Contains(body, "riverside") || strings.Contains(body, "REDACTED") || strings.Contains(body, "42CFRPart2") {
			t.Errorf("%s: a caller who may not read the program's records is told the program recorded the patient: %s", path, body)
		}
	}
}

// A caller who may read the program's records gets the Patient whole: a
// primitive in meta can carry no inline label, so meta.source goes
// unlabelled, as it came.
func TestPatientSourceOfAProgramKeptForTheConsentedCaller(t *testing.T) {
	t.Parallel()
	pat := `{"resourceType":"Patient","id":"p1","meta":{"versionId":"1","source":"https://riverside-recovery.example/ehr#a1b2"},"name":[{"family":"Doe"}]}`
	h := newHarness(t, fhirJSONHandler(200, pat), withProgramSource)
	resp, body := h.get("/fhir/Patient/p1", tokConsented)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "riverside-recovery.example/ehr") || strings.Contains(body, "PROCESSINLINELABEL") {
		t.Fatalf("consented caller: %d %s", resp.StatusCode, body)
	}
}
