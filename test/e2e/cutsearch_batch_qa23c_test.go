package e2e

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func init() {
	register("SearchOnCutElementBatch", testSearchOnCutElementBatch)
	register("PatientReadsOwnBinary", testPatientReadsOwnBinary)
	register("SearchOnCutElementBatchInclude", testSearchOnCutElementBatchInclude)
}

// testSearchOnCutElementBatch: each search entry of a batch is judged by
// its own url query, as the same search on its own is. An Observation
// whose date is cut for the other caller answered a batch's
// code search (which never reads the date) as nothing: every member of
// every batch search counted as read. It answers there now, cut; the
// batch's date search still answers without it.
func testSearchOnCutElementBatch(t *testing.T, e *env) {
	label := `"extension":[{"url":"` + inlineLabelURL + `","valueCoding":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HIV"}}]`
	meta := `"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PROCESSINLINELABEL"}]}`
	obs := func(id, extra string) []byte {
		return []byte(`{"resourceType":"Observation","id":"` + id + `",` + extra + `"status":"final","code":{"coding":[{"system":"http://loinc.org","code":"qa23c-1"}]},"subject":{"reference":"` + sudPatient + `"}}`)
	}
	e.upstream.Put(t,
		obs("qa23c-cut", meta+`,"effectiveDateTime":"2024-09-17","_effectiveDateTime":{`+label+`},`),
		obs("qa23c-high", `"effectiveDateTime":"2024-12-20",`),
	)
	base := "Observation?subject=" + sudPatient + "&code=http://loinc.org|qa23c-1"
	for _, typ := range []string{"batch", "transaction"} {
		body := `{"resourceType":"Bundle","type":"` + typ + `","entry":[` +
			`{"request":{"method":"GET","url":"` + base + `"}},` +
			`{"request":{"method":"GET","url":"` + base + `&date=gt2024-06-01"}}]}`
		r := e.do(t, http.MethodPost, "/fhir", e.tokens["other"], strings.NewReader(body), "Content-Type", "application/fhir+json")
		if r.Status != http.StatusOK {
			t.Fatalf("%s as other: %d %s", typ, r.Status, r.Body)
		}
		mustNotContain(t, typ, r, "2024-09-17")
		entries, _ := r.json(t)["entry"].([]any)
		if len(entries) != 2 {
			t.Fatalf("%s: %d entries: %s", typ, len(entries), r.Body)
		}
		for i, want := range [][]string{
			{"Observation/qa23c-cut", "Observation/qa23c-high"},
			{"Observation/qa23c-high"},
		} {
			set, _ := entries[i].(map[string]any)["resource"].(map[string]any)
			got := ids(t, set)
			slices.Sort(got)
			if !slices.Equal(got, want) || !totalCountsOnlyMatches(set) {
				t.Errorf("%s entry %d as other: %v (total %v), want %v", typ, i, got, set["total"], want)
			}
		}
		if !strings.Contains(string(r.Body), "REDACTED") {
			t.Errorf("%s: the cut match lacks REDACTED: %s", typ, r.Body)
		}
	}
}

// testPatientReadsOwnBinary: the patient's app (fhirUser and patient
// context regrantPatient, purpose PATRQT) reads its own Part 2
// DocumentReference under the right of access, and now the Binary whose
// securityContext it is too (it answered 404: a Binary has no subject of
// its own). The Binary of another patient's Part 2 document, and of the
// patient's own counseling note (PSYTHPN, excepted from the right), still
// answer as missing ones.
func testPatientReadsOwnBinary(t *testing.T, e *env) {
	id := strings.TrimPrefix(regrantPatient, "Patient/")
	self := e.mintToken(t, "--scope", "patient/*.rs", "--patient", id, "--client", "portal",
		"--sub", "pt-self-qa23c", "--fhir-user", regrantPatient, "--purpose", "PATRQT")
	secret := base64.StdEncoding.EncodeToString([]byte("qa23c-marker own opioid treatment plan"))
	doc := func(docID, patient, extraLabel string) []byte {
		return []byte(`{"resourceType":"DocumentReference","id":"` + docID + `","status":"current",
		  "meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"},` + extraLabel + `
		    {"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"},
		    {"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]},
		  "subject":{"reference":"` + patient + `"},
		  "content":[{"attachment":{"contentType":"application/pdf"}}]}`)
	}
	bin := func(binID, docID string) []byte {
		return []byte(`{"resourceType":"Binary","id":"` + binID + `","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]},
		  "contentType":"application/pdf","securityContext":{"reference":"DocumentReference/` + docID + `"},"data":"` + secret + `"}`)
	}
	psy := `{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSYTHPN"},`
	e.upstream.Put(t,
		doc("qa23c-own", regrantPatient, ""), bin("qa23c-own-bin", "qa23c-own"),
		doc("qa23c-notes", regrantPatient, psy), bin("qa23c-notes-bin", "qa23c-notes"),
		doc("qa23c-others", sudPatient, ""), bin("qa23c-others-bin", "qa23c-others"),
	)
	for _, c := range []struct {
		doc, bin string
		want     int
	}{
		{"qa23c-own", "qa23c-own-bin", http.StatusOK},
		{"qa23c-notes", "qa23c-notes-bin", http.StatusNotFound},
		{"qa23c-others", "qa23c-others-bin", http.StatusNotFound},
	} {
		d := e.do(t, http.MethodGet, "/fhir/DocumentReference/"+c.doc, self, nil)
		if d.Status != c.want {
			t.Fatalf("the setting: the patient reads DocumentReference/%s: %d, want %d\n%s", c.doc, d.Status, c.want, d.Body)
		}
		b := e.do(t, http.MethodGet, "/fhir/Binary/"+c.bin, self, nil)
		if b.Status != c.want {
			t.Errorf("the patient reads Binary/%s of DocumentReference/%s: %d, want %d as the document\n%s", c.bin, c.doc, b.Status, c.want, b.Body)
		}
		if c.want == http.StatusOK {
			if !strings.Contains(string(b.Body), secret) || !strings.Contains(string(b.Body), `"42CFRPart2"`) {
				t.Errorf("the patient's own Binary lacks its data or its Part 2 label: %s", b.Body)
			}
		} else {
			mustNotContain(t, "Binary/"+c.bin, b, secret)
		}
	}
	// The other caller still gets none of it.
	if r := e.get(t, "/fhir/Binary/qa23c-own-bin", "other"); r.Status != http.StatusNotFound {
		t.Errorf("the other caller reads the patient's Binary: %d", r.Status)
	}
}

// testSearchOnCutElementBatchInclude: a batch entry with an _include is
// judged by its own query too, and its includes by the links its own
// _include follows. A panel whose hasMember is cut for the other caller
// answered any batch search with an include as nothing (every member
// counted as read when the entry had an _include), and the member it
// links went whenever the search followed has-member, while another
// match's visible derivedFrom to the same member brings it for
// derived-from.
func testSearchOnCutElementBatchInclude(t *testing.T, e *env) {
	label := `"extension":[{"url":"` + inlineLabelURL + `","valueCoding":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HIV"}}]`
	meta := `"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PROCESSINLINELABEL"}]},`
	obs := func(id, code, extra string) []byte {
		return []byte(`{"resourceType":"Observation","id":"` + id + `",` + extra + `"status":"final","code":{"coding":[{"system":"http://loinc.org","code":"` + code + `"}]},"subject":{"reference":"` + sudPatient + `"}}`)
	}
	e.upstream.Put(t,
		obs("qa24-member", "qa24-2", ""),
		obs("qa24-panel", "qa24-1", meta+`"hasMember":[{"reference":"Observation/qa24-member",`+label+`}],`),
		obs("qa24-derived", "qa24-1", `"derivedFrom":[{"reference":"Observation/qa24-member"}],`),
	)
	base := "Observation?subject=" + sudPatient + "&code=http://loinc.org|qa24-1"
	body := `{"resourceType":"Bundle","type":"batch","entry":[` +
		`{"request":{"method":"GET","url":"` + base + `&_include=Observation:has-member"}},` +
		`{"request":{"method":"GET","url":"` + base + `&_include=Observation:derived-from"}}]}`
	r := e.do(t, http.MethodPost, "/fhir", e.tokens["other"], strings.NewReader(body), "Content-Type", "application/fhir+json")
	if r.Status != http.StatusOK {
		t.Fatalf("batch as other: %d %s", r.Status, r.Body)
	}
	entries, _ := r.json(t)["entry"].([]any)
	if len(entries) != 2 {
		t.Fatalf("%d entries: %s", len(entries), r.Body)
	}
	for i, want := range [][]string{
		{"Observation/qa24-derived", "Observation/qa24-panel"},
		{"Observation/qa24-derived", "Observation/qa24-member", "Observation/qa24-panel"},
	} {
		set, _ := entries[i].(map[string]any)["resource"].(map[string]any)
		got := ids(t, set)
		slices.Sort(got)
		if !slices.Equal(got, want) || !totalCountsOnlyMatches(set) {
			t.Errorf("entry %d as other: %v (total %v), want %v", i, got, set["total"], want)
		}
	}
	if strings.Count(string(r.Body), "REDACTED") < 2 {
		t.Errorf("the panels' cut hasMember lacks REDACTED: %s", r.Body)
	}
	// the consented caller sees the link and what it brought
	r = e.do(t, http.MethodPost, "/fhir", e.tokens["consented"], strings.NewReader(body), "Content-Type", "application/fhir+json")
	if r.Status != http.StatusOK {
		t.Fatalf("batch as consented: %d %s", r.Status, r.Body)
	}
	if n := strings.Count(string(r.Body), `"id":"qa24-member"`); n != 2 {
		t.Errorf("the consented caller got the member %d times, want 2: %s", n, r.Body)
	}
}
