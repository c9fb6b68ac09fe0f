package proxy

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestFHIRPathPatchMayNotReachIDQA35C: a FHIRPath Patch whose path reaches
// the resource's id through a function, an index, parentheses, a union or
// a quoted name, or that adds id to an expression that may be the resource
// itself, is refused (422) before anything reaches the upstream, on its
// own and in a batch, without any role. Only Condition.id, a path of two
// names, was refused: Medplum applies Condition.id.first(),
// Condition.where(true).id, Condition.select(id), (Condition.id),
// Condition.id[0], Condition.id | Condition.id and Condition.`id` to the
// id (checked against the in-memory Medplum the end-to-end tests use), and
// stores the result under it, so PATCH Observation/o1, which org-a sees
// whole, wrote over Observation/o9, a resource it was never checked for.
// Paths that only name an element's id deeper, or id inside a string, go.
func TestFHIRPathPatchMayNotReachIDQA35C(t *testing.T) {
	t.Parallel()
	const fj = "application/fhir+json"
	const obs = `{"resourceType":"Observation","id":"o1","meta":{"versionId":"1"},"status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"pulse"},"note":[{"id":"n1","text":"id"}],"identifier":[{"value":"x"}]}`
	op := func(typ, path, name string) string {
		parts := `{"name":"type","valueCode":"` + typ + `"},{"name":"path","valueString":` + strconv.Quote(path) + `}`
		if name != "" {
			parts += `,{"name":"name","valueString":"` + name + `"}`
		}
		return `{"resourceType":"Parameters","parameter":[{"name":"operation","part":[` + parts + `,{"name":"value","valueString":"o9"}]}]}`
	}
	store := func() *storeUpstream {
		return newStoreUpstream(map[string]string{"Observation/o1": obs, "Patient/p1": `{"resourceType":"Patient","id":"p1"}`})
	}
	refused := []struct{ name, body string }{
		{"first", op("replace", "Observation.id.first()", "")},
		{"where", op("replace", "Observation.where(true).id", "")},
		{"select", op("replace", "Observation.select(id)", "")},
		{"parentheses", op("replace", "(Observation.id)", "")},
		{"index", op("replace", "Observation.id[0]", "")},
		{"union", op("replace", "Observation.id | Observation.id", "")},
		{"quoted", op("replace", "Observation.`id`", "")},
		{"single", op("replace", "Observation.id.single()", "")},
		{"type", op("replace", "Observation.ofType(Observation).resourceType", "")},
		{"add to the resource", op("add", "Observation.where(true)", "id")},
		{"add quoted", op("add", "Observation.first()", "`id`")},
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
			batch := `{"resourceType":"Bundle","type":"batch","entry":[{"resource":` + c.body + `,"request":{"method":"PATCH","url":"Observation/o1"}}]}`
			resp, got = h.send(http.MethodPost, "/fhir", tokAll, fj, batch)
			if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(got, "id or resourceType") {
				t.Fatalf("in a batch, want 422: %d %s", resp.StatusCode, got)
			}
		})
	}
	for name, body := range map[string]string{
		"note text":         op("replace", "Observation.note.text", ""),
		"element id":        op("replace", "Observation.note.id", ""),
		"identifier":        op("replace", "Observation.identifier.value", ""),
		"id in a string":    op("replace", "Observation.note.where(text = 'id').text", ""),
		"add to an element": op("add", "Observation.code", "text"),
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
