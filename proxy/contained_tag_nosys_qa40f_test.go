package proxy

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestUpdateMayNotRemoveContainedLabelSpellingsQA40F: a contained
// resource's label in its meta.tag written without a system ({"code":"R"},
// read as R as in meta.security), under another label system, or with
// blanks around its system, labels the container (org-b reads 404), but an update
// dropping it stored the container ordinary: the contained meta.tag check
// counted only codings whose system is spelt as a label system's.
func TestUpdateMayNotRemoveContainedLabelSpellingsQA40F(t *testing.T) {
	t.Parallel()
	for name, inner := range map[string]string{
		"tag without a system":           `{"resourceType":"Condition","id":"c","meta":{"tag":[{"code":"R"}]},"code":{"text":"x"}}`,
		"tag under another label system": `{"resourceType":"Condition","id":"c","meta":{"tag":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"R"}]},"code":{"text":"x"}}`,
		"tag system with blanks":         `{"resourceType":"Condition","id":"c","meta":{"tag":[{"system":" http://terminology.hl7.org/CodeSystem/v3-Confidentiality ","code":"R"}]},"code":{"text":"x"}}`,
	} {
		stored := `{"resourceType":"Observation","id":"t1","meta":{"versionId":"1"},"contained":[` + inner + `],` +
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
			t.Fatalf("%s: org-b read: %d %s, want 404", name, resp.StatusCode, body)
		}
		resp, body := h.send("PUT", "/fhir/Observation/t1", tokAll, "application/fhir+json", without)
		select {
		case wr := <-writes:
			t.Errorf("%s: PUT without it: %d, reached the server: %s", name, resp.StatusCode, wr)
		default:
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s: PUT without it: %d %s, want 403", name, resp.StatusCode, body)
			}
		}
		resp, body = h.send("PUT", "/fhir/Observation/t1", tokAll, "application/fhir+json", strings.Replace(stored, `"final"`, `"amended"`, 1))
		select {
		case <-writes:
		default:
			t.Errorf("%s: PUT keeping it: %d %s, want it forwarded", name, resp.StatusCode, body)
		}
	}
}
