package proxy

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestUpdateMayNotRemoveTagLabelQA40E: a confidentiality or v3-ActCode label
// the EHR filed in meta.tag labels its resource as one in meta.security
// does (labels/README "Existing labels"), but an update or JSON Patch that
// dropped it reached the server: org-a, whom p1's consent admits to
// restricted data, PUT the Observation it read back without its meta.tag
// (or removed /meta/tag) and the server stored it ordinary, for org-b to
// read next. Without the label-writer role such a write is refused as
// stripping a meta.security label is (403).
func TestUpdateMayNotRemoveTagLabelQA40E(t *testing.T) {
	t.Parallel()
	const stored = `{"resourceType":"Observation","id":"t1","meta":{"versionId":"1","tag":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"},{"system":"urn:oid:2.16.840.1.113883.5.4","code":"42CFRPart2"}]},` +
		`"status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"lab"}}`
	const without = `{"resourceType":"Observation","id":"t1","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"lab"}}`
	writes := make(chan string, 10)
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			if strings.HasSuffix(r.URL.Path, "/Observation/t1") {
				fhirJSONHandler(200, stored)(w, r)
				return
			}
			if strings.HasSuffix(r.URL.Path, "/Patient/p1") {
				fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1"}`)(w, r)
				return
			}
			fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		writes <- r.Method + " " + string(b)
		fhirJSONHandler(200, stored)(w, r)
	})
	// The read labels it: org-b may not read it.
	if resp, body := h.get("/fhir/Observation/t1", tokOtherWriter); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("org-b read: %d %s, want 404", resp.StatusCode, body)
	}
	for _, c := range []struct{ method, ctype, body string }{
		{"PUT", "application/fhir+json", without},
		{"PATCH", "application/json-patch+json", `[{"op":"remove","path":"/meta/tag"}]`},
		{"PATCH", "application/json-patch+json", `[{"op":"replace","path":"/meta/tag/0/code","value":"N"}]`},
		{"POST", "application/fhir+json", `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"PUT","url":"Observation/t1"},"resource":` + without + `}]}`},
	} {
		path := "/fhir/Observation/t1"
		if c.method == "POST" {
			path = "/fhir"
		}
		resp, body := h.send(c.method, path, tokAll, c.ctype, c.body)
		select {
		case wr := <-writes:
			t.Errorf("%s %s: %d, reached the server: %s", c.method, c.body, resp.StatusCode, wr)
		default:
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s: %d %s, want 403", c.method, c.body, resp.StatusCode, body)
			}
		}
	}
	// Kept in meta.tag, the update goes.
	for _, body := range []string{
		stored,
		strings.Replace(stored, `"final"`, `"amended"`, 1),
	} {
		resp, answer := h.send("PUT", "/fhir/Observation/t1", tokAll, "application/fhir+json", body)
		select {
		case <-writes:
		default:
			t.Errorf("PUT %s: %d %s, want it forwarded", body, resp.StatusCode, answer)
		}
	}
}

// TestUpdateMayNotRemoveContainedTagLabelQA40E: so for a contained
// resource's label filed in its meta.tag, which labels the container (org-b
// reads 404): an update dropping it stored the Observation ordinary.
func TestUpdateMayNotRemoveContainedTagLabelQA40E(t *testing.T) {
	t.Parallel()
	const stored = `{"resourceType":"Observation","id":"t1","meta":{"versionId":"1"},"contained":[{"resourceType":"Condition","id":"c",` +
		`"meta":{"tag":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]},"code":{"text":"x"}}],` +
		`"status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"lab"},"focus":[{"reference":"#c"}]}`
	const without = `{"resourceType":"Observation","id":"t1","contained":[{"resourceType":"Condition","id":"c","code":{"text":"x"}}],` +
		`"status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"lab"},"focus":[{"reference":"#c"}]}`
	writes := make(chan string, 10)
	h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			if strings.HasSuffix(r.URL.Path, "/Observation/t1") {
				fhirJSONHandler(200, stored)(w, r)
				return
			}
			fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1"}`)(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		writes <- string(b)
		fhirJSONHandler(200, stored)(w, r)
	})
	if resp, body := h.get("/fhir/Observation/t1", tokOtherWriter); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("org-b read: %d %s, want 404", resp.StatusCode, body)
	}
	resp, body := h.send("PUT", "/fhir/Observation/t1", tokAll, "application/fhir+json", without)
	select {
	case wr := <-writes:
		t.Errorf("PUT without the contained tag: %d, reached the server: %s", resp.StatusCode, wr)
	default:
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("PUT without the contained tag: %d %s, want 403", resp.StatusCode, body)
		}
	}
	resp, body = h.send("PUT", "/fhir/Observation/t1", tokAll, "application/fhir+json", strings.Replace(stored, `"final"`, `"amended"`, 1))
	select {
	case <-writes:
	default:
		t.Errorf("PUT keeping the contained tag: %d %s, want it forwarded", resp.StatusCode, body)
	}
}
