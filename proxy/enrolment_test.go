package proxy

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

func withProgram(o *Options, d *Deps) {
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), CacheSize: 100,
		Programs: []labels.Program{{Name: "clinic", References: []string{"Organization/p2"}, Identifiers: []string{"http://hl7.org/fhir/sid/us-npi|1847002312"}}}})
	if err != nil {
		panic(err)
	}
	d.Labeller = l
}

// A Patient that names a Part 2 program as its managing organisation or
// practitioner says the person is the program's patient: for a caller who
// may not read the program's records those members are cut (the rest of
// the Patient stays), silently: a REDACTED mark on a Patient would itself
// say it; a caller with the patient's consent gets them, labelled inline.
func TestPatientEnrolmentInAPart2Program(t *testing.T) {
	t.Parallel()
	pat := `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],` +
		`"generalPractitioner":[{"reference":"Practitioner/gp"},{"identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":"1847002312"},"display":"Riverside Recovery"}],` +
		`"managing\u004frganization":{"reference":"Organization/p2","display":"Riverside Recovery"}}`
	h := newHarness(t, fhirJSONHandler(200, pat), withProgram)
	resp, body := h.get("/fhir/Patient/p1", tokOther)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "Riverside") || strings.Contains(body, "Organization/p2") ||
		strings.Contains(body, "1847002312") || !strings.Contains(body, "Practitioner/gp") || !strings.Contains(body, `"Doe"`) ||
		strings.Contains(body, `"REDACTED"`) || strings.Contains(body, "PROCESSINLINELABEL") || strings.Contains(body, "42CFRPart2") {
		t.Fatalf("caller without consent: %d %s", resp.StatusCode, body)
	}
	resp, body = h.get("/fhir/Patient/p1", tokConsented)
	if resp.StatusCode != http.StatusOK || strings.Count(body, "Riverside") != 2 || !strings.Contains(body, "extension-inline-sec-label") ||
		!strings.Contains(body, "PROCESSINLINELABEL") {
		t.Fatalf("consented caller: %d %s", resp.StatusCode, body)
	}
	// A Patient managed by another organisation is untouched.
	other := strings.Replace(strings.Replace(pat, "Organization/p2", "Organization/general", 1), `,{"identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":"1847002312"},"display":"Riverside Recovery"}`, "", 1)
	h2 := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/Organization/general") { // read for what it stands for (QA round 41, area I)
			fhirJSONHandler(200, `{"resourceType":"Organization","id":"general"}`)(w, r)
			return
		}
		fhirJSONHandler(200, other)(w, r)
	}, withProgram)
	if resp, body := h2.get("/fhir/Patient/p1", tokOther); resp.StatusCode != http.StatusOK || body != other {
		t.Fatalf("ordinary Patient changed: %d %s", resp.StatusCode, body)
	}
}

// Searching patients by a Part 2 program lists its patients, since
// Patients are never withheld: refused, in every spelling; other
// organisations are searched as before.
func TestPatientSearchByPart2ProgramRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fhir/R4/Organization/general" { // the compartment's owner, read first
			fhirJSONHandler(200, `{"resourceType":"Organization","id":"general"}`)(w, r)
			return
		}
		fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","total":0}`)(w, r)
	}, withProgram)
	for _, path := range []string{
		"/fhir/Patient?organization=Organization/p2",
		"/fhir/Patient?organization=p2",
		"/fhir/Patient?organization:Organization=p2",
		"/fhir/Patient?ORGANIZATION=x,Organization/p2",
		"/fhir/Patient?general-practitioner=Organization/p2",
		"/fhir/Patient?general-practitioner=p2",
		"/fhir/Patient?general-practitioner:identifier=http://hl7.org/fhir/sid/us-npi|1847002312",
		"/fhir/Organization/p2/Patient",
		"/fhir/?_type=Patient&organization=Organization/p2",
		"/fhir?_type=Observation,patient&organization=p2",
		"/fhir/Organization?_id=p2&_revinclude=Patient:organization",
		"/fhir/Organization?name=x&_revinclude:iterate=Patient:general-practitioner",
		"/fhir/Patient?_id=p1&_include=Patient:organization",
		"/fhir/Patient?_id=p1&_include=Patient:*",
		"/fhir/Organization?_revinclude=*",
	} {
		resp, body := h.get(path, tokConsented)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Part 2 program") {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	for _, path := range []string{"/fhir/Patient?organization=Organization/general", "/fhir/Condition?organization=Organization/p2", "/fhir/Organization/general/Patient"} {
		if resp, body := h.get(path, tokConsented); resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
}

// The narrative goes with a silent cut only when it names what was cut;
// otherwise the Patient keeps it, as every other Patient does.
func TestEnrolmentCutKeepsANarrativeThatDoesNotNameTheProgram(t *testing.T) {
	t.Parallel()
	mk := func(div string) string {
		return `{"resourceType":"Patient","id":"p1","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">` + div + `</div>"},` +
			`"managingOrganization":{"reference":"Organization/p2","display":"Riverside Recovery"}}`
	}
	for div, keep := range map[string]bool{"Jane Doe, born 1970": true, "Jane Doe, managed by RIVERSIDE recovery": false, "Jane Doe (Organization/p2)": false} {
		h := newHarness(t, fhirJSONHandler(200, mk(div)), withProgram)
		resp, body := h.get("/fhir/Patient/p1", tokOther)
		if resp.StatusCode != http.StatusOK || strings.Contains(body, "managingOrganization") || strings.Contains(body, "Jane Doe") != keep {
			t.Errorf("narrative %q: %d %s", div, resp.StatusCode, body)
		}
	}
}

// TestContainedResourcesDoNotExposeTheEnrolment: a Patient with a contained
// resource and a cut enrolment was withheld whole (its enrolment's element
// labels counted as the container's), a plain one with the same contained
// resource read: one write of a contained Basic told which Patients are a
// program's (QA round 13). Both read alike now, the enrolment cut.
func TestContainedResourcesDoNotExposeTheEnrolment(t *testing.T) {
	t.Parallel()
	var seen []string
	for _, st := range []string{
		`{"resourceType":"Patient","id":"p1","contained":[{"resourceType":"Basic","id":"o"}],"managingOrganization":{"reference":"Organization/p2"}}`,
		`{"resourceType":"Patient","id":"p1","contained":[{"resourceType":"Basic","id":"o"}],"generalPractitioner":[{"reference":"Organization/p2"}]}`,
		`{"resourceType":"Patient","id":"p1","contained":[{"resourceType":"Basic","id":"o"}]}`,
	} {
		h := newHarness(t, fhirJSONHandler(200, st), withProgram)
		resp, body := h.get("/fhir/Patient/p1", tokOther)
		if resp.StatusCode != 200 || strings.Contains(body, "Organization/p2") {
			t.Errorf("%s: %d %s", st, resp.StatusCode, body)
		}
		seen = append(seen, body)
	}
	if seen[0] != seen[2] || seen[1] != seen[2] {
		t.Errorf("enrolled and plain Patients read differently:\n%s\n%s\n%s", seen[0], seen[1], seen[2])
	}
}

// TestNarrativeNamingAProgramGoesForEveryPatient: a caller that wrote a
// program's name or reference into a Patient's narrative and read it back
// learnt whether the Patient was the program's: the narrative went only
// where the enrolment was cut (QA round 13). Now it goes for every Patient
// the caller may not learn an enrolment of, and stays for one who may.
func TestNarrativeNamingAProgramGoesForEveryPatient(t *testing.T) {
	t.Parallel()
	div := func(s string) string {
		return `"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">` + s + `</div>"}`
	}
	for _, words := range []string{"Organization/p2", "treated at the clinic", "NPI 1847002312"} {
		var seen []string
		for _, st := range []string{
			`{"resourceType":"Patient","id":"p1",` + div(words) + `,"managingOrganization":{"reference":"Organization/p2"}}`,
			`{"resourceType":"Patient","id":"p1",` + div(words) + `}`,
		} {
			h := newHarness(t, fhirJSONHandler(200, st), withProgram)
			resp, body := h.get("/fhir/Patient/p1", tokOther)
			if resp.StatusCode != 200 || strings.Contains(body, "xhtml") || strings.Contains(body, "REDACTED") {
				t.Errorf("%q: %d %s", words, resp.StatusCode, body)
			}
			seen = append(seen, body)
		}
		if seen[0] != seen[1] {
			t.Errorf("%q: enrolled and plain Patients read differently:\n%s\n%s", words, seen[0], seen[1])
		}
	}
	// A narrative naming no program stays; so does one for a caller who
	// may read the program's records.
	plain := `{"resourceType":"Patient","id":"p1",` + div("Jane Doe") + `}`
	h := newHarness(t, fhirJSONHandler(200, plain), withProgram)
	if _, body := h.get("/fhir/Patient/p1", tokOther); !strings.Contains(body, "Jane Doe") {
		t.Errorf("a narrative naming no program: %s", body)
	}
	named := `{"resourceType":"Patient","id":"p1",` + div("Organization/p2") + `}`
	h = newHarness(t, fhirJSONHandler(200, named), withProgram)
	if _, body := h.get("/fhir/Patient/p1", tokConsented); !strings.Contains(body, "Organization/p2") {
		t.Errorf("a caller who may read the program's records: %s", body)
	}
}

// TestNarrativeWithheldOnReadIsKeptOnWrite: the narrative a read withheld
// (decideNarratives) is part of what the write path cuts too, so a caller
// that writes back what it read does not erase it.
func TestNarrativeWithheldOnReadIsKeptOnWrite(t *testing.T) {
	t.Parallel()
	stored := `{"resourceType":"Patient","id":"p1","meta":{"versionId":"1"},"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">seen at Organization/p2</div>"},"name":[{"family":"Doe"}]}`
	up := newStoreUpstream(map[string]string{"Patient/p1": stored})
	h := newHarness(t, up.handler, withProgram)
	_, view := h.get("/fhir/Patient/p1", tokOtherWriter)
	if strings.Contains(view, "xhtml") {
		t.Fatalf("the read shows the narrative: %s", view)
	}
	edited := strings.Replace(view, `"family":"Doe"`, `"family":"Roe"`, 1)
	if resp, body := h.send(http.MethodPut, "/fhir/Patient/p1", tokOtherWriter, "application/fhir+json", edited); resp.StatusCode != 200 {
		t.Fatalf("update: %d %s", resp.StatusCode, body)
	}
	if got := up.get("Patient/p1"); !strings.Contains(got, "seen at Organization/p2") || !strings.Contains(got, "Roe") {
		t.Errorf("stored: %s", got)
	}
}

// An identifier the program assigned, or a contact who is the program,
// says as much as a managing organisation: cut for a caller who may not
// read the program's records (the whole element, the MRN with its
// assigner), labelled inline for one who may (QA round 30, area C).
func TestPatientIdentifierAndContactOfAProgram(t *testing.T) {
	t.Parallel()
	pat := `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],` +
		`"identifier":[{"system":"urn:mrn:general","value":"G-1"},{"system":"urn:mrn:rrc","value":"RRC-77","assigner":{"reference":"Organization/p2","display":"Riverside Recovery"}}],` +
		`"contact":[{"organization":{"identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":"1847002312"}},"name":{"text":"Intake desk"}}]}`
	h := newHarness(t, fhirJSONHandler(200, pat), withProgram)
	resp, body := h.get("/fhir/Patient/p1", tokOther)
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "Riverside") || strings.Contains(body, "RRC-77") ||
		strings.Contains(body, "1847002312") || strings.Contains(body, "Intake desk") || !strings.Contains(body, "G-1") ||
		!strings.Contains(body, `"Doe"`) || strings.Contains(body, "42CFRPart2") || strings.Contains(body, `"REDACTED"`) {
		t.Fatalf("caller without consent: %d %s", resp.StatusCode, body)
	}
	resp, body = h.get("/fhir/Patient/p1", tokConsented)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "RRC-77") || !strings.Contains(body, "Intake desk") ||
		!strings.Contains(body, "extension-inline-sec-label") {
		t.Fatalf("consented caller: %d %s", resp.StatusCode, body)
	}
}

// A system search whose _type is empty or absent may answer Patients (a
// server ignoring the empty parameter searches every type): searching it
// by a program's organization is refused as Patient? is (QA round 30,
// area C).
func TestSystemSearchByProgramOrganizationRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","total":0}`), withProgram)
	for _, q := range []string{"/fhir?_type=&organization=Organization/p2", "/fhir?organization=Organization/p2", "/fhir?_type=Patient&organization=Organization/p2"} {
		if resp, body := h.get(q, tokAll); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d %s", q, resp.StatusCode, body)
		}
	}
	if resp, body := h.get("/fhir?_type=Observation&organization=Organization/p2", tokAll); resp.StatusCode == http.StatusForbidden {
		t.Errorf("a system search of Observations refused: %s", body)
	}
}
