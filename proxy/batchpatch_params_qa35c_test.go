package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// TestBatchPatchParametersAsJSONPatchRefusedQA35C: Medplum reads a batch
// PATCH entry's Parameters whose operations have no part named type as a
// JSON Patch written as parts (op, path, from, value as a JSON string;
// fhir-router parsePatchParameter), not as a FHIRPath Patch. ds4p read it as
// a FHIRPath Patch: a path with a dot ("/code/coding/0.x", which Medplum's
// pointer inserts at index 0) was no path to meta, the from part was read
// by no check, and a value written as a JSON string held references no
// check saw. So a caller without the label-writer role moved a stored label
// out of meta.security (the write reached the server), and wrote a
// reference to a resource it may not read past the reference check. Such
// an entry is refused (400) before anything is read or written, whatever
// the role; a FHIRPath Patch (every operation with its type) still goes.
func TestBatchPatchParametersAsJSONPatchRefusedQA35C(t *testing.T) {
	t.Parallel()
	const fj = "application/fhir+json"
	op := func(parts ...string) string {
		return `{"name":"operation","part":[` + strings.Join(parts, ",") + `]}`
	}
	str := func(name, v string) string { return `{"name":"` + name + `","valueString":` + jsonStringQA35C(v) + `}` }
	code := func(name, v string) string { return `{"name":"` + name + `","valueCode":"` + v + `"}` }
	params := func(ops ...string) string {
		return `{"resourceType":"Parameters","parameter":[` + strings.Join(ops, ",") + `]}`
	}
	batch := func(resource string) string {
		return `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"PATCH","url":"Condition/sud1"},"resource":` + resource + `}]}`
	}
	cases := []struct{ name, tok, body string }{
		{"move a label out of meta", tokAll, params(op(code("op", "move"), str("from", "/meta/security/0"), str("path", "/code/coding/0.x")))},
		{"copy a label", tokAll, params(op(code("op", "copy"), str("from", "/meta/security/1"), str("path", "/code/coding/0.x")))},
		{"unchecked reference", tokAll, params(op(code("op", "add"), str("path", "/code/coding/0.x"), str("value", `{"extension":[{"url":"x","valueReference":{"reference":"Condition/nope"}}]}`)))},
		{"test by a label writer", tokWriter, params(op(code("op", "test"), str("path", "/code/coding/0/code"), str("value", `"F11.20"`)))},
		{"id by a label writer", tokWriter, params(op(code("op", "replace"), str("path", "/id"), str("value", `"other"`)))},
		{"one operation without a type", tokAll, params(
			op(code("type", "replace"), str("path", "Condition.clinicalStatus.text"), str("value", "x")),
			op(code("op", "move"), str("from", "/meta/security/0"), str("path", "/code/coding/0.x")))},
		{"no parameter named operation", tokAll, params(`{"name":"op","part":[` + code("type", "delete") + `,` + str("path", "Condition.note") + `]}`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			up := &writeUpstream{writes: make(chan string, 4)}
			h := newHarness(t, up.handler)
			resp, got := h.send(http.MethodPost, "/fhir", c.tok, fj, batch(c.body))
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(got, "OperationOutcome") {
				t.Fatalf("want 400: %d %s", resp.StatusCode, got)
			}
			if len(up.writes) != 0 {
				t.Fatalf("the batch reached the upstream: %s", <-up.writes)
			}
		})
	}
	t.Run("fhirpath patch goes", func(t *testing.T) {
		t.Parallel()
		up := &writeUpstream{writes: make(chan string, 4)}
		h := newHarness(t, up.handler)
		body := batch(params(op(code("type", "replace"), str("path", "Condition.clinicalStatus.text"), str("value", "x"))))
		resp, got := h.send(http.MethodPost, "/fhir", tokAll, fj, body)
		if resp.StatusCode != http.StatusOK || len(up.writes) != 1 {
			t.Fatalf("a FHIRPath Patch entry: %d %s, %d writes", resp.StatusCode, got, len(up.writes))
		}
	})
}

func jsonStringQA35C(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}
