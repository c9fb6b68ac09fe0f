package e2e

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// Leak tests: one per carrier of data in a response. Each stores resources
// in Medplum, reads them through the proxy as a caller who may not see the
// sensitive part ("other": no consent for the SUD patient) and checks that
// the sensitive code, id or text is nowhere in the bytes returned.

func init() {
	register("LeakContained", testLeakContained)
	register("LeakElements", testLeakElements)
	register("LeakNestedBundle", testLeakNestedBundle)
	register("LeakHistory", testLeakHistory)
	register("LeakEverythingAndInclude", testLeakEverythingAndInclude)
	register("LeakBatch", testLeakBatch)
	register("LeakOperationOutcome", testLeakOperationOutcome)
	register("LeakTotal", testLeakTotal)
	register("LeakDeniedReadIsMissing", testLeakDeniedReadIsMissing)
	register("LeakBinaryAndAttachments", testLeakBinaryAndAttachments)
}

// mustNotContain fails for each secret found in the body.
func mustNotContain(t *testing.T, what string, r response, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(string(r.Body), s) {
			t.Errorf("%s (%d) leaks %q: %s", what, r.Status, s, r.Body)
		}
	}
}

const sudCoding = `{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}`

// sudCondition is an SUD diagnosis of the SUD patient whose text holds
// marker.
func sudCondition(id, marker string) string {
	return `{"resourceType":"Condition","id":"` + id + `","subject":{"reference":"` + sudPatient + `"},
	  "code":{"coding":[` + sudCoding + `],"text":"` + marker + `"}}`
}

func testLeakContained(t *testing.T, e *env) {
	const marker = "leakmarker-contained"
	mr := `{"resourceType":"MedicationRequest","id":"leak-mr1","status":"active","intent":"order",
	  "contained":[{"resourceType":"Condition","id":"c1",
	    "meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}]},
	    "code":{"text":"` + marker + `"}}],
	  "subject":{"reference":"` + sudPatient + `"},"medicationCodeableConcept":{"text":"aspirin"},
	  "reasonReference":[{"reference":"#c1"}]}`
	e.upstream.Put(t, []byte(mr))

	r := e.get(t, "/fhir/MedicationRequest/leak-mr1", "other")
	if r.Status != http.StatusNotFound {
		t.Errorf("read of a container of a withheld Part 2 resource: %d", r.Status)
	}
	mustNotContain(t, "read", r, marker)
	r = e.get(t, "/fhir/MedicationRequest?subject="+sudPatient, "other")
	if r.Status != http.StatusOK {
		t.Fatalf("search: %d %s", r.Status, r.Body)
	}
	mustNotContain(t, "search", r, marker, "leak-mr1")

	// Obligations: the consented caller sees 42CFRPart2 and NORDSCLCD on
	// the container and on the contained resource.
	r = e.get(t, "/fhir/MedicationRequest/leak-mr1", "consented")
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), marker) {
		t.Fatalf("consented read: %d %s", r.Status, r.Body)
	}
	res := r.json(t)
	if got := securityCodes(res); !got["42CFRPart2"] || !got["NORDSCLCD"] {
		t.Errorf("container labels %v, want 42CFRPart2 and NORDSCLCD", got)
	}
	contained, _ := res["contained"].([]any)
	if len(contained) != 1 {
		t.Fatalf("contained: %v", res["contained"])
	}
	if got := securityCodes(contained[0].(map[string]any)); !got["42CFRPart2"] || !got["NORDSCLCD"] {
		t.Errorf("contained labels %v, want 42CFRPart2 and NORDSCLCD", got)
	}
	if r.Header.Get("X-DS4P-Notice") == "" {
		t.Error("Part 2 data disclosed without the 42 CFR 2.32 notice header")
	}
}

func testLeakElements(t *testing.T, e *env) {
	const marker = "leakmarker-narrative"
	eob := `{"resourceType":"ExplanationOfBenefit","id":"leak-eob1","status":"active",
	  "text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">` + marker + ` opioid dependence</div>"},
	  "type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/claim-type","code":"professional"}]},
	  "use":"claim","patient":{"reference":"` + sudPatient + `"},"created":"2026-01-10",
	  "insurer":{"display":"Payer"},"provider":{"display":"Clinic"},"outcome":"complete",
	  "diagnosis":[
	    {"sequence":1,"diagnosisCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"I10"}]}},
	    {"sequence":2,"diagnosisCodeableConcept":{"coding":[` + sudCoding + `]}}
	  ],
	  "insurance":[{"focal":true,"coverage":{"display":"Plan"}}]}`
	e.upstream.Put(t, []byte(eob))
	for _, url := range []string{"/fhir/ExplanationOfBenefit/leak-eob1", "/fhir/ExplanationOfBenefit?_id=leak-eob1"} {
		r := e.get(t, url, "other")
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", url, r.Status, r.Body)
		}
		mustNotContain(t, url, r, marker, "F11.20", "opioid")
		body := string(r.Body)
		if !strings.Contains(body, `"I10"`) || !strings.Contains(body, `"REDACTED"`) {
			t.Errorf("%s: want the ordinary diagnosis and the REDACTED label: %s", url, body)
		}
	}
	r := e.get(t, "/fhir/ExplanationOfBenefit/leak-eob1", "consented")
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "F11.20") || strings.Contains(string(r.Body), "REDACTED") {
		t.Errorf("the consented caller does not get the whole claim: %d %s", r.Status, r.Body)
	}
}

func testLeakNestedBundle(t *testing.T, e *env) {
	const marker = "leakmarker-nested"
	doc := `{"resourceType":"Bundle","id":"leak-doc1","type":"collection","entry":[
	  {"resource":` + sudCondition("leak-nested-c1", marker) + `},
	  {"resource":{"resourceType":"Observation","id":"leak-nested-o1","status":"final","code":{"text":"weight"},"subject":{"reference":"` + sudPatient + `"}}}]}`
	e.upstream.Put(t, []byte(doc))
	for _, url := range []string{"/fhir/Bundle/leak-doc1", "/fhir/Bundle?_id=leak-doc1"} {
		r := e.get(t, url, "other")
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", url, r.Status, r.Body)
		}
		mustNotContain(t, url, r, marker, "leak-nested-c1", "F11.20")
		if !strings.Contains(string(r.Body), "leak-nested-o1") {
			t.Errorf("%s: the ordinary nested entry is gone: %s", url, r.Body)
		}
	}
}

func testLeakHistory(t *testing.T, e *env) {
	const marker = "leakmarker-history"
	e.upstream.Put(t, []byte(sudCondition("leak-hist1", marker)))
	e.upstream.Put(t, []byte(sudCondition("leak-hist1", marker+"-v2")))
	e.upstream.Put(t, []byte(sudCondition("leak-hist2", marker)))
	req, _ := http.NewRequest(http.MethodDelete, e.upstream.BaseURL+"/Condition/leak-hist2", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	// Instance history of a withheld resource answers as a missing one.
	withheld := e.get(t, "/fhir/Condition/leak-hist1/_history", "other")
	missing := e.get(t, "/fhir/Condition/leak-histz/_history", "other")
	sameAsMissing(t, withheld, missing, "leak-hist1", "leak-histz")
	mustNotContain(t, "instance history", withheld, marker)

	// Type history: neither the versions nor the deletion of a withheld
	// resource.
	r := e.get(t, "/fhir/Condition/_history", "other")
	if r.Status != http.StatusOK {
		t.Fatalf("type history: %d %s", r.Status, r.Body)
	}
	mustNotContain(t, "type history", r, marker, "leak-hist1", "leak-hist2")
}

// sameAsMissing checks that a withheld and a missing resource answer alike:
// status, headers but Date and X-Request-Id, and body with the ids swapped.
func sameAsMissing(t *testing.T, withheld, missing response, withheldID, missingID string) {
	t.Helper()
	if withheld.Status != http.StatusNotFound || missing.Status != http.StatusNotFound {
		t.Errorf("status withheld %d, missing %d, want 404 both", withheld.Status, missing.Status)
	}
	if got, want := strings.ReplaceAll(string(withheld.Body), withheldID, missingID), string(missing.Body); got != want {
		t.Errorf("bodies differ:\nwithheld %s\nmissing  %s", withheld.Body, missing.Body)
	}
	for _, h := range []http.Header{withheld.Header, missing.Header} {
		h.Del("Date")
		h.Del("X-Request-Id")
	}
	if len(withheld.Header) != len(missing.Header) {
		t.Errorf("headers differ:\nwithheld %v\nmissing  %v", withheld.Header, missing.Header)
	}
	for k, v := range withheld.Header {
		if strings.Join(v, ",") != strings.Join(missing.Header[k], ",") {
			t.Errorf("header %s: withheld %q, missing %q", k, v, missing.Header[k])
		}
	}
}

func testLeakEverythingAndInclude(t *testing.T, e *env) {
	e.upstream.Put(t, []byte(sudCondition("leak-evt1", "leakmarker-everything")))
	secrets := []string{"leakmarker-everything", "leak-evt1", "F11.20"}
	for id := range e.sensitive(sudPatient) {
		secrets = append(secrets, id)
	}
	for _, url := range []string{
		"/fhir/Patient/pat-0/$everything",
		"/fhir/Patient?_id=pat-0&_revinclude=Condition:subject",
	} {
		r := e.get(t, url, "other")
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", url, r.Status, r.Body)
		}
		mustNotContain(t, url, r, secrets...)
		if !strings.Contains(string(r.Body), `"id":"pat-0"`) {
			t.Errorf("%s: the ordinary Patient is gone: %s", url, r.Body)
		}
	}
}

func testLeakBatch(t *testing.T, e *env) {
	e.upstream.Put(t, []byte(sudCondition("leak-bat01", "leakmarker-batch")))
	batch := `{"resourceType":"Bundle","type":"batch","entry":[
	  {"request":{"method":"GET","url":"Condition/leak-bat01"}},
	  {"request":{"method":"GET","url":"Condition/leak-bat02"}},
	  {"request":{"method":"GET","url":"Patient/pat-0"}}]}`
	r := e.do(t, http.MethodPost, "/fhir", e.tokens["other"], strings.NewReader(batch), "Content-Type", "application/fhir+json")
	mustNotContain(t, "batch", r, "leakmarker-batch", "leak-bat01", "F11.20")
	if r.Status != http.StatusOK {
		t.Fatalf("batch: %d %s", r.Status, r.Body)
	}
	entries, _ := r.json(t)["entry"].([]any)
	if len(entries) != 3 {
		t.Fatalf("batch-response entries must keep their positions: %s", r.Body)
	}
	if jsonString(entries[0]) != jsonString(entries[1]) {
		t.Errorf("withheld entry %s differs from missing entry %s", jsonString(entries[0]), jsonString(entries[1]))
	}
	if !strings.Contains(jsonString(entries[2]), "pat-0") {
		t.Errorf("the ordinary entry is gone: %s", jsonString(entries[2]))
	}
}

func testLeakOperationOutcome(t *testing.T, e *env) {
	// The upstream quotes an unknown search parameter in its error
	// diagnostics.
	const marker = "leakmarkeroo"
	// A value that is no id: a plain id in a parameter that is not FHIR
	// R4's is refused by the proxy itself (enforcement.search_params).
	r := e.get(t, "/fhir/Condition?"+marker+"=1%201", "other")
	mustNotContain(t, "error outcome", r, marker)
	if r.Status < 400 || strings.Contains(string(r.Body), "enforcement.search_params") {
		t.Errorf("the probe did not reach the upstream's error: %d %s", r.Status, r.Body)
	}
	// Each batch entry's response.outcome loses its free text (Medplum
	// writes details.text "All OK"), and the searchset nested in the entry
	// is enforced like any other.
	e.upstream.Put(t, []byte(sudCondition("leak-oo1", "leakmarker-oo-nested")))
	batch := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Condition?subject=` + sudPatient + `&_count=1000"}}]}`
	r = e.do(t, http.MethodPost, "/fhir", e.tokens["other"], strings.NewReader(batch), "Content-Type", "application/fhir+json")
	if r.Status != http.StatusOK {
		t.Fatalf("batch: %d %s", r.Status, r.Body)
	}
	mustNotContain(t, "batch outcome", r, "All OK", "leakmarker-oo-nested", "leak-oo1", "F11.20")
	if !strings.Contains(string(r.Body), `"code":"informational"`) {
		t.Errorf("the batch outcome lost its issue codes too: %s", r.Body)
	}
}

func testLeakTotal(t *testing.T, e *env) {
	url := "/fhir/Condition?subject=" + sudPatient + "&_count=1000"
	other := e.get(t, url, "other")
	if other.Status != http.StatusOK {
		t.Fatalf("%d %s", other.Status, other.Body)
	}
	// The default (enforcement.total: decrement): the total of a one-page
	// answer counts only what it holds, as if the withheld matches did
	// not exist.
	if b := other.json(t); b["total"] == nil || !totalCountsOnlyMatches(b) {
		t.Errorf("Bundle.total missing or counting the withheld SUD entries: %s", other.Body)
	}
	mine := e.get(t, url, "consented").json(t)
	if _, ok := mine["total"]; !ok {
		t.Errorf("Bundle.total dropped although nothing was withheld from a one-page result")
	}
}

func testLeakDeniedReadIsMissing(t *testing.T, e *env) {
	e.upstream.Put(t, []byte(sudCondition("leak-dnr01", "leakmarker-read")))
	withheld := e.get(t, "/fhir/Condition/leak-dnr01", "other")
	missing := e.get(t, "/fhir/Condition/leak-dnr02", "other")
	sameAsMissing(t, withheld, missing, "leak-dnr01", "leak-dnr02")
	mustNotContain(t, "read", withheld, "leakmarker-read", "F11.20")

	// vread: the version id comes from the upstream itself.
	up, err := http.Get(e.upstream.BaseURL + "/Condition/leak-dnr01")
	if err != nil {
		t.Fatal(err)
	}
	var stored struct{ Meta struct{ VersionID string } }
	err = json.NewDecoder(up.Body).Decode(&stored)
	up.Body.Close()
	if err != nil || stored.Meta.VersionID == "" {
		t.Fatalf("upstream read: %v %+v", err, stored)
	}
	v := "/_history/" + stored.Meta.VersionID
	withheld = e.get(t, "/fhir/Condition/leak-dnr01"+v, "other")
	missing = e.get(t, "/fhir/Condition/leak-dnr02"+v, "other")
	sameAsMissing(t, withheld, missing, "leak-dnr01", "leak-dnr02")
	mustNotContain(t, "vread", withheld, "leakmarker-read", "F11.20")
}

func testLeakBinaryAndAttachments(t *testing.T, e *env) {
	secret := base64.StdEncoding.EncodeToString([]byte("leakmarker-binary opioid dependence"))
	bin := `{"resourceType":"Binary","id":"leak-bin1","contentType":"application/pdf","data":"` + secret + `"}`
	dr := `{"resourceType":"DocumentReference","id":"leak-dr1","status":"current",
	  "meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]},
	  "subject":{"reference":"Patient/pat-1"},
	  "content":[{"attachment":{"contentType":"application/pdf","data":"` + secret + `","url":"` + e.upstream.BaseURL + `/Binary/leak-bin1"}}]}`
	classified := `{"resourceType":"Binary","id":"leak-bin2","contentType":"application/pdf","data":"` + secret + `",
	  "meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]}}`
	e.upstream.Put(t, []byte(bin), []byte(dr), []byte(classified))
	if r := e.get(t, "/fhir/Binary/leak-bin2", "other"); r.Status != http.StatusOK || !strings.Contains(string(r.Body), secret) {
		t.Errorf("a classified ordinary Binary is withheld: %d %s", r.Status, r.Body)
	}

	r := e.get(t, "/fhir/Binary/leak-bin1", "consented")
	if r.Status != http.StatusNotFound {
		t.Errorf("an unclassified Binary: %d", r.Status)
	}
	mustNotContain(t, "Binary", r, secret)

	r = e.get(t, "/fhir/DocumentReference/leak-dr1", "other")
	if r.Status != http.StatusOK {
		t.Fatalf("DocumentReference: %d %s", r.Status, r.Body)
	}
	mustNotContain(t, "DocumentReference", r, secret, e.upstream.BaseURL)
	body := string(r.Body)
	if !strings.Contains(body, e.proxy+"/fhir/Binary/leak-bin1") || !strings.Contains(body, `"REDACTED"`) {
		t.Errorf("attachment url not at the proxy, or no REDACTED label: %s", body)
	}
}
