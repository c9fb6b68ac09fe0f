package proxy

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestFHIRPathPatchServerMetaQA35C: a label-writer's FHIRPath Patch that
// reaches a member of meta FHIR's Meta does not define through a function
// or a quoted name (Observation.select(meta).account,
// Observation.`meta`.account, an add of account to
// Observation.select(meta); Observation.meta.where(true).account was
// refused already) is refused (400 naming it) and nothing reaches the
// upstream. The check read dotted steps only, so these went to the server, and Medplum applies each to meta.account (checked
// against the in-memory Medplum the end-to-end tests use): who owns the
// resource there, and may read it past ds4p. Patches of FHIR's own meta
// members still go.
func TestFHIRPathPatchServerMetaQA35C(t *testing.T) {
	t.Parallel()
	const fj = "application/fhir+json"
	const writer = tokAll + " " + LabelWriterScope
	const obs = `{"resourceType":"Observation","id":"o1","meta":{"versionId":"1","tag":[{"code":"t"}]},"status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"pulse"}}`
	op := func(typ, path, name string) string {
		parts := `{"name":"type","valueCode":"` + typ + `"},{"name":"path","valueString":` + strconv.Quote(path) + `}`
		if name != "" {
			parts += `,{"name":"name","valueString":"` + name + `"}`
		}
		return `{"resourceType":"Parameters","parameter":[{"name":"operation","part":[` + parts + `,{"name":"value","valueReference":{"reference":"Organization/org-a"}}]}]}`
	}
	store := func() *storeUpstream {
		return newStoreUpstream(map[string]string{"Observation/o1": obs, "Patient/p1": `{"resourceType":"Patient","id":"p1"}`, "Organization/org-a": `{"resourceType":"Organization","id":"org-a"}`})
	}
	for name, body := range map[string]string{
		"select":      op("replace", "Observation.select(meta).account", ""),
		"where":       op("replace", "Observation.meta.where(true).account", ""),
		"quoted":      op("replace", "Observation.`meta`.account", ""),
		"add to meta": op("add", "Observation.select(meta)", "account"),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			up := store()
			h := newHarness(t, up.handler)
			resp, got := h.send(http.MethodPatch, "/fhir/Observation/o1", writer, fj, body)
			up.mu.Lock()
			n := len(up.patches) + len(up.ifMatch)
			up.mu.Unlock()
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(got, "meta.account") || n != 0 {
				t.Fatalf("want 400 naming meta.account and no write: %d %s (%d writes)", resp.StatusCode, got, n)
			}
		})
	}
	for name, body := range map[string]string{
		"security where": `{"resourceType":"Parameters","parameter":[{"name":"operation","part":[{"name":"type","valueCode":"delete"},{"name":"path","valueString":"Observation.meta.security.where(code = 'account')"}]}]}`,
		"tag":            `{"resourceType":"Parameters","parameter":[{"name":"operation","part":[{"name":"type","valueCode":"delete"},{"name":"path","valueString":"Observation.meta.tag"}]}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			up := store()
			h := newHarness(t, up.handler)
			resp, got := h.send(http.MethodPatch, "/fhir/Observation/o1", writer, fj, body)
			up.mu.Lock()
			n := len(up.patches)
			up.mu.Unlock()
			if n != 1 {
				t.Fatalf("a label-writer's patch of meta.security or tag did not reach the upstream: %d %s", resp.StatusCode, got)
			}
		})
	}
}
