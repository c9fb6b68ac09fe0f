package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestBinarySelfAccessAsItsSecurityContext: a patient's app (fhirUser
// Patient/p1) read its own Part 2 DocumentReference under the right of
// access, but the Binary of that very document answered 404: selfAccess
// needs the item's own subject, and a Binary has none. The Binary now
// takes the right of access exactly as its securityContext would: given
// when the caller reading the target would get it (the target read from
// the upstream, or the one in the response), withheld as the target is
// when it is a counseling note (PSYTHPN), when the target names the
// patient only in a spelling the right of access does not take, and when
// it is another patient's.
func TestBinarySelfAccessAsItsSecurityContext(t *testing.T) {
	t.Parallel()
	const psyLabel = `{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSYTHPN"},`
	notes := strings.NewReplacer(`"id":"d1"`, `"id":"d2"`, `"security":[`, `"security":[`+psyLabel).Replace(scDocRef)
	loose := strings.NewReplacer(`"id":"d1"`, `"id":"d3"`, `"Patient/p1"`, `"Patient/p1/_history/../../x"`).Replace(scDocRef)
	other := strings.NewReplacer(`"id":"d1"`, `"id":"d4"`, `"Patient/p1"`, `"Patient/p2"`).Replace(scDocRef)
	res := map[string]string{
		"DocumentReference/d1": scDocRef, "Binary/b1": scBinary("b1", "DocumentReference/d1"),
		"DocumentReference/d2": notes, "Binary/b2": scBinary("b2", "DocumentReference/d2"),
		"DocumentReference/d3": loose, "Binary/b3": scBinary("b3", "DocumentReference/d3"),
		"DocumentReference/d4": other, "Binary/b4": scBinary("b4", "DocumentReference/d4"),
		// The same document named with a version.
		"Binary/b6": scBinary("b6", "DocumentReference/d1/_history/1"),
	}
	// Binary/b1 in a search, its DocumentReference included: the target
	// is the response's.
	h := newHarness(t, scUpstream(res, []string{scBinary("b1", "DocumentReference/d1")}, true),
		func(_ *Options, d *Deps) { d.Auth = patientAppAuth{} })
	// And by an absolute reference under the upstream's base (written
	// before the first request).
	res["Binary/b5"] = scBinary("b5", h.upstream.URL+"/fhir/R4/DocumentReference/d1")
	for _, c := range []struct {
		doc, bin string
		want     int
	}{
		{"d1", "b1", http.StatusOK},
		{"d1", "b5", http.StatusOK},
		{"d1", "b6", http.StatusOK},
		{"d2", "b2", http.StatusNotFound},
		{"d3", "b3", http.StatusNotFound},
		{"d4", "b4", http.StatusNotFound},
	} {
		resp, body := h.get("/fhir/DocumentReference/"+c.doc, "x")
		if resp.StatusCode != c.want {
			t.Fatalf("the setting: p1's app reads DocumentReference/%s: %d %s", c.doc, resp.StatusCode, body)
		}
		resp, body = h.get("/fhir/Binary/"+c.bin, "x")
		if resp.StatusCode != c.want || (c.want == http.StatusOK) != strings.Contains(body, scSecret) {
			t.Errorf("p1's app reads Binary/%s of DocumentReference/%s: %d %s, want %d as the document", c.bin, c.doc, resp.StatusCode, body, c.want)
		}
		if c.want == http.StatusNotFound && body != string(notFoundBody("Binary", c.bin)) {
			t.Errorf("Binary/%s withheld not as a missing one: %s", c.bin, body)
		}
	}
	resp, body := h.get("/fhir/Binary?_id=b1", "x")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, scSecret) || !strings.Contains(body, `"total":1`) {
		t.Errorf("p1's app searches its Binary, the document included: %d %s", resp.StatusCode, body)
	}
}

// TestBinarySelfAccessTargetInResponse: when the response holds the
// Binary's securityContext, the right of access is that resource's as the
// response has it (the labeller took the Binary's patient from it), not
// the upstream's stored one read again.
func TestBinarySelfAccessTargetInResponse(t *testing.T) {
	t.Parallel()
	loose := strings.Replace(scDocRef, `"Patient/p1"`, `"Patient/p1/_history/../../x"`, 1)
	for _, c := range []struct {
		name            string
		included, store string
		want            bool
	}{
		{"own in the response, none stored", scDocRef, "", true},
		{"loosely spelled in the response, own stored", loose, scDocRef, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := map[string]string{}
			if c.store != "" {
				res["DocumentReference/d1"] = c.store
			}
			routed := newRouted(res)
			up := func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/fhir/R4/Binary" {
					routed.handle(w, r)
					return
				}
				w.Header().Set("Content-Type", "application/fhir+json")
				_, _ = w.Write([]byte(`{"resourceType":"Bundle","type":"searchset","total":1,"entry":[` +
					`{"fullUrl":"Binary/b1","resource":` + scBinary("b1", "DocumentReference/d1") + `,"search":{"mode":"match"}},` +
					`{"fullUrl":"DocumentReference/d1","resource":` + c.included + `,"search":{"mode":"include"}}]}`))
			}
			h := newHarness(t, up, func(_ *Options, d *Deps) { d.Auth = patientAppAuth{} })
			resp, body := h.get("/fhir/Binary?_id=b1", "x")
			if resp.StatusCode != http.StatusOK || strings.Contains(body, scSecret) != c.want {
				t.Errorf("%d %s, want the Binary disclosed: %v", resp.StatusCode, body, c.want)
			}
			if n := routed.readsOf("DocumentReference/d1"); n != 0 {
				t.Errorf("the securityContext in the response was read from the upstream %d times", n)
			}
		})
	}
}
