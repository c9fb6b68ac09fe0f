package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// A Provenance or AuditEvent names no Patient when what it is about is
// another resource: one about another patient's Observation was read as
// data about no one and disclosed to a token bound to a patient (a read
// by id, a search by date), telling that the Observation exists, who
// recorded it, when and why (QA round 26, area B). It takes the patients
// of the resources it is about: those in the same response, or, when the
// response does not hold them, one the proxy cannot tell (withheld). A
// patient's own Provenance stays beside its target (US Core's
// _revinclude=Provenance:target); a user token is not bound and reads it.
func TestAboutResourcesTakeTheirPatients(t *testing.T) {
	t.Parallel()
	const otherObs = `{"resourceType":"Observation","id":"o2","status":"final","subject":{"reference":"Patient/p2"},"code":{"text":"weight"},"valueQuantity":{"value":99,"unit":"kg"}}`
	const pv2 = `{"resourceType":"Provenance","id":"pv2","target":[{"reference":"Observation/o2"}],"recorded":"2024-01-01T00:00:00Z","agent":[{"who":{"reference":"Practitioner/dr-secret"}}],"reason":[{"text":"intake-note-two"}]}`
	const pv1 = `{"resourceType":"Provenance","id":"pv1","target":[{"reference":"Observation/bp1"}],"recorded":"2024-01-01T00:00:00Z","agent":[{"who":{"reference":"Practitioner/dr-own"}}]}`
	const pvMixed = `{"resourceType":"Provenance","id":"pv3","target":[{"reference":"Patient/p1"},{"reference":"Observation/o2"}],"recorded":"2024-01-01T00:00:00Z","agent":[{"who":{"reference":"Practitioner/dr-mixed"}}]}`
	const ae2 = `{"resourceType":"AuditEvent","id":"ae2","type":{"code":"rest"},"recorded":"2024-01-01T00:00:00Z","agent":[{"who":{"reference":"Practitioner/dr-audit"},"requestor":true}],"source":{"observer":{"display":"x"}},"entity":[{"what":{"reference":"Observation/o2"}}]}`
	entry := func(typ, id, res, mode string) string {
		return `{"fullUrl":"http://x/` + typ + `/` + id + `","resource":` + res + `,"search":{"mode":"` + mode + `"}}`
	}
	bundle := func(es ...string) string {
		return `{"resourceType":"Bundle","type":"searchset","entry":[` + strings.Join(es, ",") + `]}`
	}
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		switch r.URL.Path {
		case "/fhir/R4/Observation":
			_, _ = w.Write([]byte(bundle(entry("Observation", "bp1", bpObs, "match"), entry("Observation", "o2", otherObs, "match"),
				entry("Provenance", "pv1", pv1, "include"), entry("Provenance", "pv2", pv2, "include"))))
		case "/fhir/R4/Observation/o2":
			_, _ = w.Write([]byte(otherObs))
		case "/fhir/R4/Observation/bp1":
			_, _ = w.Write([]byte(bpObs))
		case "/fhir/R4/Provenance":
			_, _ = w.Write([]byte(bundle(entry("Provenance", "pv2", pv2, "match"), entry("Provenance", "pv3", pvMixed, "match"))))
		case "/fhir/R4/Provenance/pv2":
			_, _ = w.Write([]byte(pv2))
		case "/fhir/R4/AuditEvent/ae2":
			_, _ = w.Write([]byte(ae2))
		default:
			w.WriteHeader(404)
			_, _ = w.Write([]byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`))
		}
	}, withScopeAuth)
	const bound = "p1|patient/*.rs"
	secrets := []string{"dr-secret", "intake-note-two", "dr-mixed", "dr-audit", `"o2"`, "Observation/o2"}
	leaked := func(body string) string {
		for _, s := range secrets {
			if strings.Contains(body, s) {
				return s
			}
		}
		return ""
	}
	for _, path := range []string{"/fhir/Provenance/pv2", "/fhir/AuditEvent/ae2"} {
		resp, body := h.get(path, bound)
		if resp.StatusCode != http.StatusNotFound || leaked(body) != "" {
			t.Errorf("%s with a token bound to p1: %d %s", path, resp.StatusCode, body)
		}
	}
	resp, body := h.get("/fhir/Provenance?recorded=2024", bound)
	if resp.StatusCode != 200 || leaked(body) != "" {
		t.Errorf("Provenance search with a token bound to p1: %d %s", resp.StatusCode, body)
	}
	resp, body = h.get("/fhir/Observation?code=x&_revinclude=Provenance:target", bound)
	if resp.StatusCode != 200 || leaked(body) != "" || !strings.Contains(body, `"pv1"`) || !strings.Contains(body, "dr-own") {
		t.Errorf("the patient's own Provenance beside its target: %d %s", resp.StatusCode, body)
	}
	// Not bound: as before.
	if resp, body := h.get("/fhir/Provenance/pv2", "|user/*.rs"); resp.StatusCode != 200 || !strings.Contains(body, "dr-secret") {
		t.Errorf("a user token reading the Provenance: %d %s", resp.StatusCode, body)
	}
}
