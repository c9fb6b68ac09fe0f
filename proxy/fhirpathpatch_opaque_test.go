package proxy

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestFHIRPathPatchOpaquePathMayReachID: a label-writer's FHIRPath Patch
// whose path reaches elements without naming them (children(),
// descendants(), repeat(), an environment variable) may reach the
// resource's id without naming it: Observation.children().where($this =
// 'o1') is the id on a server that resolves it (Medplum answers "Failed to
// resolve target", others may not). QA round 35, area G, proposed counting
// such a path as reaching id; it is refused already, before anything is
// written (400: the reference check cannot read what such a path reaches),
// which this test holds.
func TestFHIRPathPatchOpaquePathMayReachID(t *testing.T) {
	t.Parallel()
	const fj = "application/fhir+json"
	const obs = `{"resourceType":"Observation","id":"o1","meta":{"versionId":"1"},"status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"pulse"}}`
	for _, path := range []string{
		"Observation.children().where($this = 'o1')",
		"Observation.descendants().where($this = 'o1')",
		"Observation.repeat(children()).where($this = 'o1')",
		"%resource.children().first()",
	} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			up := newStoreUpstream(map[string]string{"Observation/o1": obs, "Patient/p1": `{"resourceType":"Patient","id":"p1"}`})
			h := newHarness(t, up.handler)
			body := `{"resourceType":"Parameters","parameter":[{"name":"operation","part":[{"name":"type","valueCode":"replace"},` +
				`{"name":"path","valueString":` + strconv.Quote(path) + `},{"name":"value","valueId":"o9"}]}]}`
			resp, got := h.send(http.MethodPatch, "/fhir/Observation/o1", tokWriter, fj, body)
			up.mu.Lock()
			n := len(up.patches) + len(up.ifMatch)
			up.mu.Unlock()
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(got, "cannot check") || n != 0 {
				t.Fatalf("a label-writer's patch: want 400 and no write: %d %s (%d writes)", resp.StatusCode, got, n)
			}
		})
	}
}
