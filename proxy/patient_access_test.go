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
	}, func(_ *Options, d *Deps) { d.Auth = selfAuth{} })
	for _, c := range []struct {
		name, path, token string
		want              int
	}{
		{"the patient, patient requested", "/fhir/Condition/p2c", "Patient/p1|PATRQT|p1", 200},
		{"another user in the same patient context", "/fhir/Condition/p2c", "RelatedPerson/rp1|PATRQT|p1", 404},
		{"a patient whose fhirUser is another patient", "/fhir/Condition/p2c", "Patient/p2|PATRQT|p1", 404},
		{"the patient again, after the others (no cached denial)", "/fhir/Condition/p2c", "Patient/p1|PATRQT|p1", 200},
		{"the patient as an absolute URL", "/fhir/Condition/p2c", "https://ehr.example.org/fhir/Patient/p1|PATRQT|p1", 200},
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
	if disclosed != 3 {
		t.Errorf("ledger: %d disclosures to the patient recorded, want 3", disclosed)
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
