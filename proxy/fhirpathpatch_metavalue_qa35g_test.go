package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestFHIRPathPatchServerMetaValueQA35G: a label-writer's FHIRPath Patch
// may not write a member of meta that FHIR's Meta does not define through
// the value it puts at meta: a replace of Observation.meta, or an add of
// meta, with a value holding account. The check read paths and names
// only, so both reached the server, and Medplum stores either as
// meta.account (checked against the in-memory Medplum the end-to-end
// tests use: replace Observation.meta with valueMeta {account, security}
// and add meta to Observation with valueMeta {account} each set it), the
// member that decides who may read the resource there. A value of FHIR's
// own Meta members still goes.
func TestFHIRPathPatchServerMetaValueQA35G(t *testing.T) {
	t.Parallel()
	const fj = "application/fhir+json"
	const writer = tokAll + " " + LabelWriterScope
	const obs = `{"resourceType":"Observation","id":"o1","meta":{"versionId":"1","tag":[{"code":"t"}]},"status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"pulse"}}`
	op := func(typ, path, name, value string) string {
		parts := `{"name":"type","valueCode":"` + typ + `"},{"name":"path","valueString":"` + path + `"}`
		if name != "" {
			parts += `,{"name":"name","valueString":"` + name + `"}`
		}
		return `{"resourceType":"Parameters","parameter":[{"name":"operation","part":[` + parts + `,{"name":"value",` + value + `}]}]}`
	}
	const account = `"valueMeta":{"account":{"reference":"Organization/org-a"},"tag":[{"code":"t"}]}`
	store := func() *storeUpstream {
		return newStoreUpstream(map[string]string{"Observation/o1": obs, "Patient/p1": `{"resourceType":"Patient","id":"p1"}`, "Organization/org-a": `{"resourceType":"Organization","id":"org-a"}`})
	}
	for name, body := range map[string]string{
		"replace meta":           op("replace", "Observation.meta", "", account),
		"replace selected meta":  op("replace", "Observation.select(meta)", "", account),
		"add meta":               op("add", "Observation", "meta", account),
		"add meta to the type":   op("add", "Observation.Observation", "`meta`", account),
		"another type's account": op("replace", "Observation.meta", "", `"valueIdentifier":{"account":{"reference":"Organization/org-a"}}`),
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
		"replace meta with FHIR's members": op("replace", "Observation.meta", "", `"valueMeta":{"tag":[{"code":"t2"}]}`),
		"add a security label":             op("add", "Observation.meta", "security", `"valueCoding":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"}`),
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
				t.Fatalf("a label-writer's patch of FHIR's meta members did not reach the upstream: %d %s", resp.StatusCode, got)
			}
		})
	}
}
