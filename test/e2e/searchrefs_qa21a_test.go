package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

func init() { register("BareIDSearchAnswersAsMissing", testBareIDSearchAnswersAsMissing) }

// testBareIDSearchAnswersAsMissing: a search by a bare id (no type) of a
// resource withheld from the caller answers exactly as one by an id no
// resource has. Medplum matches a bare id when the parameter has one
// target type (DiagnosticReport.result: Observation): the report, whose
// withheld result element is cut, would show that the Observation exists.
// A parameter that may refer to any type (List.item) refuses a bare id,
// whatever it names.
func testBareIDSearchAnswersAsMissing(t *testing.T, e *env) {
	const sec = `"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"},{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]}`
	e.upstream.Put(t,
		[]byte(`{"resourceType":"Observation","id":"qa21a-obs-sud",`+sec+`,"status":"final","code":{"text":"qa21a drug screen"},"subject":{"reference":"`+sudPatient+`"}}`),
		[]byte(`{"resourceType":"Observation","id":"qa21a-obs-ok","status":"final","code":{"text":"qa21a glucose"},"subject":{"reference":"`+sudPatient+`"}}`),
		[]byte(`{"resourceType":"DiagnosticReport","id":"qa21a-dr","status":"final","code":{"text":"qa21a panel"},"subject":{"reference":"`+sudPatient+`"},
		  "result":[{"reference":"Observation/qa21a-obs-sud"},{"reference":"Observation/qa21a-obs-ok"}]}`),
		[]byte(sudCondition("qa21a-cond-sud", "qa21a condition")),
		[]byte(`{"resourceType":"List","id":"qa21a-list","status":"current","mode":"working","subject":{"reference":"`+sudPatient+`"},
		  "entry":[{"item":{"reference":"Condition/qa21a-cond-sud"}},{"item":{"reference":"Observation/qa21a-obs-ok"}}]}`),
	)
	// The setting: the Observation and the Condition are withheld from the
	// other caller, the report and the List are disclosed to it.
	for _, path := range []string{"Observation/qa21a-obs-sud", "Condition/qa21a-cond-sud"} {
		if r := e.get(t, "/fhir/"+path, "other"); r.Status != http.StatusNotFound {
			t.Fatalf("%s as other: %d", path, r.Status)
		}
	}
	for _, path := range []string{"DiagnosticReport/qa21a-dr", "List/qa21a-list"} {
		r := e.get(t, "/fhir/"+path, "other")
		if r.Status != http.StatusOK {
			t.Fatalf("%s as other: %d %s", path, r.Status, r.Body)
		}
		mustNotContain(t, path, r, "qa21a-obs-sud", "qa21a-cond-sud")
	}

	// DiagnosticReport?result=<bare id>: as for a missing id.
	withheld := e.get(t, "/fhir/DiagnosticReport?result=qa21a-obs-sud", "other")
	missing := e.get(t, "/fhir/DiagnosticReport?result=qa21a-nope", "other")
	if withheld.Status != http.StatusOK || missing.Status != http.StatusOK {
		t.Fatalf("result=<bare id>: %d %s; missing: %d %s", withheld.Status, withheld.Body, missing.Status, missing.Body)
	}
	if got, want := ids(t, withheld.json(t)), ids(t, missing.json(t)); !slices.Equal(got, want) || len(got) != 0 {
		t.Errorf("DiagnosticReport?result=<withheld bare id> answered %v; a missing id %v", got, want)
	}
	mustNotContain(t, "result=<withheld bare id>", withheld, "qa21a-dr")
	// The readable result is sent as itself, so the consented caller, to
	// whom nothing of the report is cut, finds the report by it. The other
	// caller does not: the report's result member was cut for it, and a
	// match the search selected on a cut member is withheld (QA round 22).
	if r := e.get(t, "/fhir/Observation/qa21a-obs-sud", "consented"); r.Status != http.StatusOK {
		t.Fatalf("the consented caller cannot read the Part 2 Observation: %d", r.Status)
	}
	if got := ids(t, e.get(t, "/fhir/DiagnosticReport?result=qa21a-obs-ok", "consented").json(t)); !slices.Contains(got, "DiagnosticReport/qa21a-dr") {
		t.Errorf("consented: result=<readable bare id> answered %v", got)
	}
	if got := ids(t, e.get(t, "/fhir/DiagnosticReport?result=qa21a-obs-ok", "other").json(t)); slices.Contains(got, "DiagnosticReport/qa21a-dr") {
		t.Errorf("other: result=<readable bare id> answered %v, with the report whose result member was cut", got)
	}
	if r := e.get(t, "/fhir/Observation/qa21a-obs-sud", "consented"); r.Status == http.StatusOK {
		if got := ids(t, e.get(t, "/fhir/DiagnosticReport?result=qa21a-obs-sud", "consented").json(t)); !slices.Contains(got, "DiagnosticReport/qa21a-dr") {
			t.Errorf("consented: result=<bare id> answered %v", got)
		}
	}

	// List?item=<bare id>: refused alike for a withheld and a missing id.
	withheld = e.get(t, "/fhir/List?item=qa21a-cond-sud", "other")
	missing = e.get(t, "/fhir/List?item=qa21a-nope", "other")
	if withheld.Status != missing.Status || string(withheld.Body) != string(missing.Body) {
		t.Errorf("List?item=<withheld bare id>: %d %s; missing: %d %s", withheld.Status, withheld.Body, missing.Status, missing.Body)
	}
	if withheld.Status != http.StatusBadRequest || !strings.Contains(string(withheld.Body), "write its type") {
		t.Errorf("List?item=<bare id>: %d %s", withheld.Status, withheld.Body)
	}
	// Typed, as before: the List is not matched through the withheld item.
	typed := e.get(t, "/fhir/List?item=Condition/qa21a-cond-sud", "other")
	if got := ids(t, typed.json(t)); typed.Status != http.StatusOK || len(got) != 0 {
		t.Errorf("List?item=Condition/<withheld>: %d %v", typed.Status, got)
	}
}
