package proxy

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/proxy/authn"
)

// selfAuth accepts tokens "fhirUser|purpose|patient": a SMART patient app
// (patient/ scopes, the patient claim), its user given by fhirUser.
type selfAuth struct{}

func (selfAuth) Verify(_ context.Context, raw string) (authn.Caller, error) {
	p := strings.Split(raw, "|")
	if len(p) != 3 {
		return authn.Caller{}, authn.ErrUnauthenticated
	}
	c := authn.Caller{Subject: "app-user", Client: "portal", Scopes: []string{"patient/*.rs"}, Patient: p[2], FHIRUser: authn.FHIRUserRef(p[0])}
	if strings.Contains(p[0], "://") {
		c.FHIRUserURL = p[0]
	}
	if p[1] != "" {
		c.Purposes = []string{p[1]}
	}
	return c, nil
}

// psyNote is Patient/p1's Part 2 counseling note.
const psyNote = `{"resourceType":"DocumentReference","id":"note1","meta":{"security":[` +
	`{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"},` +
	`{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSYTHPN"}]},` +
	`"status":"current","subject":{"reference":"Patient/p1"}}`

// TestPatientReadsOwnRecord: the patient signed in to a patient app
// (fhirUser Patient/p1) reads their own Part 2 record, which p1's consent
// releases to no one but org-a (HIPAA 164.524, 42 CFR 2.23); not with a
// fhirUser naming someone else, not without the purpose the policy data
// asks (PATRQT), and never their counseling notes (164.524(a)(1)(i)). The
// decision cache must not carry one caller's answer to another.
func TestPatientReadsOwnRecord(t *testing.T) {
	t.Parallel()
	bodies := map[string]string{"/fhir/R4/Condition/p2c": part2Condition, "/fhir/R4/DocumentReference/note1": psyNote}
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		b, ok := bodies[r.URL.Path]
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = w.Write([]byte(b))
	}, func(o *Options, d *Deps) { d.Auth, o.PublicBaseURL = selfAuth{}, "https://ds4p.example.org/fhir" })
	for _, c := range []struct {
		name, path, token string
		want              int
	}{
		{"the patient, patient requested", "/fhir/Condition/p2c", "Patient/p1|PATRQT|p1", 200},
		{"another user in the same patient context", "/fhir/Condition/p2c", "RelatedPerson/rp1|PATRQT|p1", 404},
		{"a patient whose fhirUser is another patient", "/fhir/Condition/p2c", "Patient/p2|PATRQT|p1", 404},
		{"the patient again, after the others (no cached denial)", "/fhir/Condition/p2c", "Patient/p1|PATRQT|p1", 200},
		{"the patient as an absolute URL of the FHIR server", "/fhir/Condition/p2c", h.base() + "/Patient/p1|PATRQT|p1", 200},
		{"the patient as an absolute URL of the configured public base", "/fhir/Condition/p2c", "https://ds4p.example.org/fhir/Patient/p1|PATRQT|p1", 200},
		{"a patient of another FHIR server with the same id", "/fhir/Condition/p2c", "https://other.example.org/fhir/Patient/p1|PATRQT|p1", 404},
		{"a path below the base that is no Type/id", "/fhir/Condition/p2c", h.base() + "/Group/g/Patient/p1|PATRQT|p1", 404},
		{"the patient stating no purpose", "/fhir/Condition/p2c", "Patient/p1||p1", 404},
		{"the patient stating treatment", "/fhir/Condition/p2c", "Patient/p1|TREAT|p1", 404},
		{"the patient's counseling note", "/fhir/DocumentReference/note1", "Patient/p1|PATRQT|p1", 404},
	} {
		resp, body := h.get(c.path, c.token)
		if resp.StatusCode != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, resp.StatusCode, body, c.want)
		}
	}
	var disclosed int
	entries, _ := h.ledger.Find(context.Background(), audit.Query{})
	for _, e := range entries {
		if e.Patient == "Patient/p1" && len(e.Disclosed) > 0 {
			disclosed++
		}
	}
	if disclosed != 4 {
		t.Errorf("ledger: %d disclosures to the patient recorded, want 4", disclosed)
	}
}

// TestDecideSimulatesThePatient: /admin/decide takes caller.fhir_user, so
// a policy author can check what a patient app sees of its own patient;
// a fhir_user that names no user resource is a 400, not ignored.
func TestDecideSimulatesThePatient(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	body := func(fhirUser string) string {
		return `{"caller":{"subject":"sim","purposes":["PATRQT"],"fhir_user":"` + fhirUser + `"},"time":"2026-03-01T00:00:00Z","resources":[` + part2Condition + `]}`
	}
	for fhirUser, want := range map[string]string{"Patient/p1": "permit", "Patient/p2": "deny", "": "deny"} {
		resp, out := h.post("/admin/decide", tokAdmin, body(fhirUser))
		if resp.StatusCode != 200 {
			t.Fatalf("%q: %d %s", fhirUser, resp.StatusCode, out)
		}
		var got DecideResponse
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Items) != 1 || got.Items[0].Decision.Effect != want {
			t.Errorf("fhir_user %q: %s, want %s", fhirUser, out, want)
		}
	}
	if resp, out := h.post("/admin/decide", tokAdmin, body("Observation/o1")); resp.StatusCode != 400 || !strings.Contains(out, "fhir_user") {
		t.Errorf("a fhir_user naming an Observation: %d %s", resp.StatusCode, out)
	}
}

// TestPatientAccessOnlyToOwnRecord: the right of access covers the records
// that are the patient's by their own subject (or patient, beneficiary),
// not records of someone else that merely mention the patient: a Group's
// observation with the patient in an extension, a document about a Group
// the patient wrote, one whose subject is no Patient reference at all. A
// clinician would not get them either; the patient must not get more.
func TestPatientAccessOnlyToOwnRecord(t *testing.T) {
	t.Parallel()
	const hiv = `"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HIV"},{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]}`
	bodies := map[string]string{
		"/fhir/R4/Observation/own": `{"resourceType":"Observation","id":"own",` + hiv + `,"status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"}}`,
		"/fhir/R4/Observation/grp": `{"resourceType":"Observation","id":"grp",` + hiv + `,"status":"final","code":{"text":"x"},"subject":{"reference":"Group/g-b"},` +
			`"extension":[{"url":"http://example.org/about","valueReference":{"reference":"Patient/p1"}}]}`,
		"/fhir/R4/DocumentReference/doc": `{"resourceType":"DocumentReference","id":"doc",` + hiv + `,"status":"current","subject":{"reference":"Group/g-b"},"author":[{"reference":"Patient/p1"}]}`,
		"/fhir/R4/Observation/urn":       `{"resourceType":"Observation","id":"urn",` + hiv + `,"status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:6d1a"},"performer":[{"reference":"Patient/p1"}]}`,
		"/fhir/R4/Observation/contained": `{"resourceType":"Observation","id":"contained",` + hiv + `,"status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"},` +
			`"contained":[{"resourceType":"Observation","id":"c1","status":"final","code":{"text":"y"},"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"}]}}],"hasMember":[{"reference":"#c1"}]}`,
	}
	subject := func(id, ref string) string {
		return `{"resourceType":"Observation","id":"` + id + `",` + hiv + `,"status":"final","code":{"text":"x"},"subject":{"reference":"` + ref + `"}}`
	}
	withContained := func(id, ref string) string {
		return `{"resourceType":"Observation","id":"` + id + `",` + hiv + `,"status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"},` +
			`"contained":[{"resourceType":"Observation","id":"c1","status":"final","code":{"text":"y"},"subject":{"reference":"` + ref + `"},` +
			`"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"}]}}],"hasMember":[{"reference":"#c1"}]}`
	}
	var base string
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		b, ok := bodies[r.URL.Path]
		switch r.URL.Path {
		case "/fhir/R4/Observation/abs-own":
			b, ok = subject("abs-own", base+"/Patient/p1"), true
		case "/fhir/R4/Observation/contained-own-abs":
			b, ok = withContained("contained-own-abs", base+"/Patient/p1"), true
		}
		if !ok {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = w.Write([]byte(b))
	}, func(_ *Options, d *Deps) { d.Auth = selfAuth{} })
	base = h.base()
	bodies["/fhir/R4/Observation/versioned"] = subject("versioned", "Patient/p1/_history/2")
	bodies["/fhir/R4/Observation/other-server"] = subject("other-server", "http://other.example/fhir/Patient/p1")
	bodies["/fhir/R4/Observation/nested"] = subject("nested", "Patient/pb/Patient/p1")
	bodies["/fhir/R4/Observation/dotdot"] = subject("dotdot", "Patient/p1/_history/../../Patient/pb")
	bodies["/fhir/R4/Observation/contained-other-server"] = withContained("contained-other-server", "http://other.example/fhir/Patient/p1")
	bodies["/fhir/R4/Observation/contained-own"] = withContained("contained-own", "Patient/p1")
	for path, want := range map[string]int{
		"/fhir/Observation/abs-own":                200,
		"/fhir/Observation/versioned":              200,
		"/fhir/Observation/contained-own":          200,
		"/fhir/Observation/contained-own-abs":      200,
		"/fhir/Observation/other-server":           404,
		"/fhir/Observation/nested":                 404,
		"/fhir/Observation/dotdot":                 404,
		"/fhir/Observation/contained-other-server": 404,
		"/fhir/Observation/own":                    200,
		"/fhir/Observation/contained":              200,
		"/fhir/Observation/grp":                    404,
		"/fhir/DocumentReference/doc":              404,
		"/fhir/Observation/urn":                    404,
	} {
		if resp, body := h.get(path, "Patient/p1|PATRQT|p1"); resp.StatusCode != want {
			t.Errorf("%s: %d, want %d: %s", path, resp.StatusCode, want, body)
		}
	}
}

// TestDecidePatientBareID: /admin/decide reads a bare patient id as
// Patient/ID, as the audit API does, so the simulation decides with that
// patient's consents; a patient that is no reference is a 400.
func TestDecidePatientBareID(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	noPatient := strings.Replace(part2Condition, `"subject":{"reference":"Patient/p1"},`, "", 1)
	for patient, want := range map[string]string{"p1": "permit", "Patient/p1": "permit", "p2": "deny"} {
		body := `{"caller":{"subject":"sim","org":"Organization/org-a","purposes":["TREAT"]},"patient":"` + patient + `","time":"2026-03-01T00:00:00Z","resources":[` + noPatient + `]}`
		resp, out := h.post("/admin/decide", tokAdmin, body)
		var got DecideResponse
		if resp.StatusCode != 200 || json.Unmarshal([]byte(out), &got) != nil || len(got.Items) != 1 {
			t.Fatalf("patient %q: %d %s", patient, resp.StatusCode, out)
		}
		if got.Items[0].Decision.Effect != want {
			t.Errorf("patient %q: %s, want %s", patient, got.Items[0].Decision.Effect, want)
		}
	}
	if resp, out := h.post("/admin/decide", tokAdmin, `{"caller":{"subject":"sim"},"patient":"Patient/a b","resources":[`+noPatient+`]}`); resp.StatusCode != 400 {
		t.Errorf("a patient that is no reference: %d %s", resp.StatusCode, out)
	}
}

// TestFHIRUserBaseIsNotTheCallersHost: without public_base_url the proxy's
// public base comes from the request's Host header, which the caller
// chooses: an absolute fhirUser of another server must not count as this
// patient because the caller sent that server's name as Host.
func TestFHIRUserBaseIsNotTheCallersHost(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, part2Condition), func(_ *Options, d *Deps) { d.Auth = selfAuth{} })
	tok := "http://other.example/fhir/Patient/p1|PATRQT|p1"
	if resp, body := h.get("/fhir/Condition/p2c", tok, "Host", "other.example"); resp.StatusCode != 404 {
		t.Fatalf("Host: other.example: %d %s", resp.StatusCode, body)
	}
	if resp, body := h.get("/fhir/Condition/p2c", h.base()+"/Patient/p1|PATRQT|p1"); resp.StatusCode != 200 {
		t.Fatalf("the upstream's own URL: %d %s", resp.StatusCode, body)
	}
}

// userScopesAuth accepts tokens "fhirUser|purpose": a user/ token (no
// patient claim), its user given by fhirUser, as an authorisation server
// may issue to a patient who signed in to a portal.
type userScopesAuth struct{}

func (userScopesAuth) Verify(_ context.Context, raw string) (authn.Caller, error) {
	p := strings.Split(raw, "|")
	if len(p) != 2 {
		return authn.Caller{}, authn.ErrUnauthenticated
	}
	c := authn.Caller{Subject: "portal-user", Client: "portal", Scopes: []string{"user/*.cruds"}, Purposes: []string{p[1]}, FHIRUser: authn.FHIRUserRef(p[0])}
	c.PatientUser = strings.HasPrefix(c.FHIRUser, "Patient/") || c.FHIRUser == "" && authn.NamesPatient(p[0]) // as authn's verifier sets it
	if strings.Contains(p[0], "://") && c.FHIRUser != "" {
		c.FHIRUserURL = p[0]
	}
	return c, nil
}

// TestPatientUserIsBoundToTheirCompartment: a token whose user is a
// Patient reads that patient's compartment only, though it carries user/
// scopes and no patient claim; before, it read every patient's data the
// policy allows a clinician. A Patient user the proxy cannot bind (another
// server's, a claim it cannot read) is refused; a practitioner's token is
// not bound.
func TestPatientUserIsBoundToTheirCompartment(t *testing.T) {
	t.Parallel()
	obs := func(patient string) string {
		return `{"resourceType":"Observation","id":"o-` + patient + `","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/` + patient + `"}}`
	}
	var upstreamWrites int
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			upstreamWrites++
			w.WriteHeader(http.StatusCreated)
			return
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		switch r.URL.Path {
		case "/fhir/R4/Observation/o-p1":
			_, _ = w.Write([]byte(obs("p1")))
		case "/fhir/R4/Observation/o-p2":
			_, _ = w.Write([]byte(obs("p2")))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}, func(o *Options, d *Deps) { d.Auth, o.PublicBaseURL = userScopesAuth{}, "https://ds4p.example.org/fhir" })
	for _, c := range []struct {
		name, path, token string
		want              int
	}{
		{"a practitioner reads p2", "/fhir/Observation/o-p2", "Practitioner/dr1|TREAT", 200},
		{"the patient reads their own", "/fhir/Observation/o-p1", "Patient/p1|PATRQT", 200},
		{"the patient reads another patient's", "/fhir/Observation/o-p2", "Patient/p1|PATRQT", 404},
		{"the patient stating treatment reads another patient's", "/fhir/Observation/o-p2", "Patient/p1|TREAT", 404},
		{"the patient as a URL of the public base", "/fhir/Observation/o-p2", "https://ds4p.example.org/fhir/Patient/p1|TREAT", 404},
		{"a patient of another server", "/fhir/Observation/o-p2", "https://other.example.org/fhir/Patient/p1|TREAT", 403},
		{"a patient claim FHIRUserRef cannot read", "/fhir/Observation/o-p2", "Patient/p1/_history/2|TREAT", 403},
		{"a patient claim percent-encoded", "/fhir/Observation/o-p2", "Patient%2Fp1|TREAT", 403},
		{"a practitioner under a base with a patient segment", "/fhir/Observation/o-p2", "https://ds4p.example.org/patient/fhir/Practitioner/dr1|TREAT", 200},
	} {
		resp, body := h.get(c.path, c.token)
		if resp.StatusCode != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, resp.StatusCode, body, c.want)
		}
	}
	if resp, body := h.post("/fhir/Observation", "Patient/p1|PATRQT", obs("p1")); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a patient user's write: %d %s, want 403 as for any patient-context token", resp.StatusCode, body)
	}
	if upstreamWrites != 0 {
		t.Errorf("%d writes reached the upstream", upstreamWrites)
	}
}

func TestNamesPatient(t *testing.T) {
	for s, want := range map[string]bool{
		"Patient/p1": true, "https://x.example/fhir/Patient/p1": true, "Patient/p1/_history/2": true,
		"patient/p 1": true, "Patient/": true, "Practitioner/dr1": false, "Patient": false, "": false, "https://x/Patient": false, "Patients/p1": false, "Patient%2Fp1": true, "https://x/fhir/Patient%2fp1": true,
	} {
		if got := authn.NamesPatient(s); got != want {
			t.Errorf("NamesPatient(%q) = %v, want %v", s, got, want)
		}
	}
}
