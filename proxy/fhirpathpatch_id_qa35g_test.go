package proxy

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestFHIRPathPatchTypeNameAndQuotesQA35G: two more spellings of a FHIRPath
// Patch path that reaches the resource's own id, each checked against the
// in-memory Medplum the end-to-end tests use, where PATCH Observation/o1
// replacing them with o9 wrote over Observation/o9:
//   - the resource's type named again: Medplum reads a type name on a
//     resource as the resource itself, so Observation.Observation.id is
//     Observation.id, but as a plain chain of three names it counted as an
//     element's id (Observation.note.id); an add of id to
//     Observation.Observation likewise;
//   - a double-quoted string: Medplum reads "..." as a string, the proxy
//     read a single quote inside it as the start of a string running to
//     the end, so Observation.where("'" != "x").id named no id.
//
// Comments (// and /* */), read differently by servers, are refused too.
// A single-quoted string with // in it (a system URL) still goes.
func TestFHIRPathPatchTypeNameAndQuotesQA35G(t *testing.T) {
	t.Parallel()
	const fj = "application/fhir+json"
	const obs = `{"resourceType":"Observation","id":"o1","meta":{"versionId":"1"},"status":"final","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"note":[{"id":"n1","text":"id"}]}`
	op := func(typ, path, name string) string {
		parts := `{"name":"type","valueCode":"` + typ + `"},{"name":"path","valueString":` + strconv.Quote(path) + `}`
		if name != "" {
			parts += `,{"name":"name","valueString":"` + name + `"}`
		}
		return `{"resourceType":"Parameters","parameter":[{"name":"operation","part":[` + parts + `,{"name":"value","valueId":"o9"}]}]}`
	}
	store := func() *storeUpstream {
		return newStoreUpstream(map[string]string{"Observation/o1": obs, "Patient/p1": `{"resourceType":"Patient","id":"p1"}`})
	}
	refused := []struct{ name, body string }{
		{"type named twice", op("replace", "Observation.Observation.id", "")},
		{"type named thrice", op("replace", "Observation . Observation.Observation.resourceType", "")},
		{"add to the type named twice", op("add", "Observation.Observation", "id")},
		{"single quote in a double-quoted string", op("replace", `Observation.where("'" != "x").id`, "")},
		{"double-quoted string", op("replace", `Observation.where(status != "x").id`, "")},
		{"line comment", op("replace", "Observation //'\n.id", "")},
		{"block comment", op("replace", "Observation /* ' */.id", "")},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			up := store()
			h := newHarness(t, up.handler)
			resp, got := h.send(http.MethodPatch, "/fhir/Observation/o1", tokAll, fj, c.body)
			up.mu.Lock()
			n := len(up.patches) + len(up.ifMatch)
			up.mu.Unlock()
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(got, "id or resourceType") || n != 0 {
				t.Fatalf("want 422 and no write: %d %s (%d writes)", resp.StatusCode, got, n)
			}
			batch := `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":` + c.body + `,"request":{"method":"PATCH","url":"Observation/o1"}}]}`
			resp, got = h.send(http.MethodPost, "/fhir", tokAll, fj, batch)
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(got, "id or resourceType") {
				t.Fatalf("in a transaction, want 422: %d %s", resp.StatusCode, got)
			}
		})
	}
	for name, body := range map[string]string{
		"system url in a string": op("replace", "Observation.code.coding.where(system = 'http://loinc.org').code", ""),
		"element id":             op("replace", "Observation.note.id", ""),
		"type then element id":   op("replace", "Observation.Observation.note.id", ""),
		"add to an element":      op("add", "Observation.Observation.code", "text"),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			up := store()
			h := newHarness(t, up.handler)
			resp, got := h.send(http.MethodPatch, "/fhir/Observation/o1", tokAll, fj, body)
			up.mu.Lock()
			n := len(up.patches)
			up.mu.Unlock()
			if n != 1 {
				t.Fatalf("a FHIRPath Patch keeping id and type did not reach the upstream: %d %s", resp.StatusCode, got)
			}
		})
	}
}
