package e2e

import (
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func init() { register("BinarySecurityContext", testBinarySecurityContext) }

// testBinarySecurityContext: a Binary's access is governed by its
// securityContext (FHIR R4). A Binary labelled only N whose securityContext
// is a Part 2 DocumentReference of the SUD patient is withheld from a
// caller without the patient's consent exactly as a missing Binary is, in
// a read and in a search, and disclosed to a consented caller with the
// Part 2 labels and NORDSCLCD; one whose securityContext does not exist is
// withheld from both.
func testBinarySecurityContext(t *testing.T, e *env) {
	secret := base64.StdEncoding.EncodeToString([]byte("qa22a-marker opioid counseling note"))
	n := `"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]}`
	e.upstream.Put(t,
		[]byte(`{"resourceType":"DocumentReference","id":"qa22a-dr","status":"current",
		  "meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"},
		    {"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"},
		    {"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]},
		  "subject":{"reference":"`+sudPatient+`"},
		  "content":[{"attachment":{"contentType":"application/pdf","url":"Binary/qa22a-bin"}}]}`),
		[]byte(`{"resourceType":"Binary","id":"qa22a-bin",`+n+`,"contentType":"application/pdf",
		  "securityContext":{"reference":"DocumentReference/qa22a-dr"},"data":"`+secret+`"}`),
		[]byte(`{"resourceType":"Binary","id":"qa22a-bin-orphan",`+n+`,"contentType":"application/pdf",
		  "securityContext":{"reference":"DocumentReference/qa22a-nope"},"data":"`+secret+`"}`),
	)
	// The setting: the DocumentReference is withheld from the other caller.
	if r := e.get(t, "/fhir/DocumentReference/qa22a-dr", "other"); r.Status != http.StatusNotFound {
		t.Fatalf("DocumentReference as other: %d", r.Status)
	}

	withheld := e.get(t, "/fhir/Binary/qa22a-bin", "other")
	missing := e.get(t, "/fhir/Binary/qa22a-bin-none", "other")
	if withheld.Status != http.StatusNotFound || missing.Status != withheld.Status ||
		strings.ReplaceAll(string(missing.Body), "qa22a-bin-none", "qa22a-bin") != string(withheld.Body) {
		t.Errorf("Binary of a Part 2 document as other: %d %s; a missing Binary: %d %s", withheld.Status, withheld.Body, missing.Status, missing.Body)
	}
	mustNotContain(t, "withheld Binary", withheld, secret)

	// A search, when the server searches Binary (the in-process tests
	// cover it otherwise: proxy/securitycontext_qa22a_test.go).
	r := e.get(t, "/fhir/Binary?_id=qa22a-bin", "other")
	mustNotContain(t, "Binary search as other", r, secret)
	searches := r.Status == http.StatusOK
	if !searches {
		t.Logf("the server does not search Binary: %d %s", r.Status, r.Body)
	} else if got := ids(t, r.json(t)); len(got) != 0 {
		t.Errorf("Binary?_id as other: %v", got)
	}

	r = e.get(t, "/fhir/Binary/qa22a-bin", "consented")
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), secret) {
		t.Fatalf("Binary as consented: %d %s", r.Status, r.Body)
	}
	for _, want := range []string{`"code":"NORDSCLCD"`, `"code":"42CFRPart2"`} {
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("consented caller's Binary lacks %s: %s", want, r.Body)
		}
	}
	if searches {
		r = e.get(t, "/fhir/Binary?_id=qa22a-bin", "consented")
		if got := ids(t, r.json(t)); r.Status != http.StatusOK || !slices.Contains(got, "Binary/qa22a-bin") {
			t.Errorf("Binary?_id as consented: %d %v", r.Status, got)
		}
	}

	for _, caller := range []string{"other", "consented"} {
		r := e.get(t, "/fhir/Binary/qa22a-bin-orphan", caller)
		if r.Status != http.StatusNotFound {
			t.Errorf("Binary whose securityContext is missing, as %s: %d", caller, r.Status)
		}
		mustNotContain(t, "orphan Binary", r, secret)
	}
}
