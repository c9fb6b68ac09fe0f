package proxy

import (
	"strings"
	"testing"
)

// TestFHIRPathPatchMetaBypassesQA20E: a FHIRPath Patch whose path reaches
// meta.security without spelling it in a valueString is refused without
// the label-writer role, as one that spells it is.
func TestFHIRPathPatchMetaBypassesQA20E(t *testing.T) {
	t.Parallel()
	op := func(parts string) string {
		return `{"resourceType":"Parameters","parameter":[{"name":"operation","part":[` + parts + `]}]}`
	}
	cases := map[string]string{
		"path as valueCode":  op(`{"name":"type","valueCode":"delete"},{"name":"path","valueCode":"Condition.meta.security"}`),
		"path as valueUri":   op(`{"name":"type","valueCode":"delete"},{"name":"path","valueUri":"Condition.meta"}`),
		"name as valueCode":  op(`{"name":"type","valueCode":"add"},{"name":"path","valueString":"Condition"},{"name":"name","valueCode":"meta"},{"name":"value","valueMeta":{}}`),
		"descendants":        op(`{"name":"type","valueCode":"delete"},{"name":"path","valueString":"Condition.descendants().where(code='SUD')"}`),
		"children":           op(`{"name":"type","valueCode":"delete"},{"name":"path","valueString":"Condition.children().where(code='R')"}`),
		"escaped identifier": op(`{"name":"type","valueCode":"delete"},{"name":"path","valueString":"Condition.` + "`m\\\\u0065ta`" + `"}`),
		"resource variable":  op(`{"name":"type","valueCode":"delete"},{"name":"path","valueString":"Condition.code.select(%resource.children())"}`),
		"repeat":             op(`{"name":"type","valueCode":"delete"},{"name":"path","valueString":"Condition.repeat(children()).where(code='SUD')"}`),
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			up := &writeUpstream{writes: make(chan string, 4)}
			h := newHarness(t, up.handler)
			resp, got := h.send("PATCH", "/fhir/Condition/sud1", tokAll, "application/fhir+json", body)
			if len(up.writes) != 0 || resp.StatusCode < 400 {
				t.Fatalf("a FHIRPath Patch reaching meta went upstream without the role: %d %s", resp.StatusCode, got)
			}
		})
	}
}

// TestFHIRPathPatchReferencesQA20E: a FHIRPath Patch writing a reference
// string by a path the check did not read (a valueCode path, a second
// path part, reference not last, an element reached without naming it)
// answers for a withheld target as for a missing one, and neither write
// reaches the upstream.
func TestFHIRPathPatchReferencesQA20E(t *testing.T) {
	t.Parallel()
	op := func(parts string) func(string) string {
		return func(ref string) string {
			return `{"resourceType":"Parameters","parameter":[{"name":"operation","part":[{"name":"type","valueCode":"replace"},` +
				parts + `,{"name":"value","valueString":"` + ref + `"}]}]}`
		}
	}
	cases := map[string]func(string) string{
		"path as valueCode":    op(`{"name":"path","valueCode":"Observation.focus[0].reference"}`),
		"two path parts":       op(`{"name":"path","valueString":"Observation.focus[0].reference"},{"name":"path","valueString":"Observation.status"}`),
		"reference not last":   op(`{"name":"path","valueString":"Observation.focus[0].select(reference)"}`),
		"reached without name": op(`{"name":"path","valueString":"Observation.focus[0].children()"}`),
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			up := newRefUpstream()
			h := newHarness(t, up.handle)
			// Without the label-writer role, a path reaching what it does
			// not name is refused as one of meta (403) for both targets.
			for _, tok := range []string{tokOtherWriter, tokOtherWriter + " " + LabelWriterScope} {
				r1, b1 := h.send("PATCH", "/fhir/Observation/o1", tok, "application/fhir+json", body("Condition/sud1"))
				r2, b2 := h.send("PATCH", "/fhir/Observation/o1", tok, "application/fhir+json", body("Condition/zz91"))
				if r1.StatusCode == 403 && r2.StatusCode == 403 && b1 == b2 && tok == tokOtherWriter {
					continue
				}
				if r1.StatusCode != 400 || r2.StatusCode != 400 || strings.ReplaceAll(b1, "sud1", "zz91") != b2 || !strings.Contains(b1, "Condition/sud1, which is not known") {
					t.Fatalf("%s: withheld %d %s\nmissing %d %s", tok, r1.StatusCode, b1, r2.StatusCode, b2)
				}
			}
			if n := up.writeCount(); n != 0 {
				t.Fatalf("a refused write reached the upstream: %v", up.writes)
			}
		})
	}
}
