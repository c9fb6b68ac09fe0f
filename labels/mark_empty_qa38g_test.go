package labels_test

import (
	"strings"
	"testing"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
)

// TestMarkEditsLeaveNoEmptyMemberQA38G: a security or tag array whose every
// entry the mark removes, nothing added, goes with its comma, and meta with
// it when none of its members is left, so that the Bundle reads as the one
// that never carried the label (QA round 38, area G): "security":[],
// "tag":[] or "meta":{} told that a label was removed. Members the server
// sent empty, and entries the mark keeps, stay. MarkEdits and MarkEditsAt
// agree.
func TestMarkEditsLeaveNoEmptyMemberQA38G(t *testing.T) {
	t.Parallel()
	const (
		r     = `{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}`
		sud   = `{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}`
		other = `{"system":"http://example.org/tags","code":"x"}`
		vid   = `"versionId":"2"`
		// N as the mark writes it
		nWritten = `{"extension":[{"url":"http://hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-sec-label-classifier","valueReference":{"display":"ds4p labeller"}}],"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}`
	)
	nMark := labels.NewSet(labels.Label{System: labels.SystemConfidentiality, Code: "N"})
	for _, c := range []struct {
		name, in, want string
		mark           labels.Set
	}{
		{"security alone", `{"resourceType":"Bundle","id":"b","meta":{"security":[` + r + `]},"type":"searchset"}`,
			`{"resourceType":"Bundle","id":"b","type":"searchset"}`, nil},
		{"meta first", `{"meta":{"security":[` + r + `,` + sud + `]},"resourceType":"Bundle","id":"b"}`,
			`{"resourceType":"Bundle","id":"b"}`, nil},
		{"meta last", `{"resourceType":"Bundle","id":"b","meta":{"tag":[` + sud + `]}}`,
			`{"resourceType":"Bundle","id":"b"}`, nil},
		{"meta the only member", `{"meta":{"security":[` + r + `]}}`, `{}`, nil},
		{"security then versionId", `{"resourceType":"Bundle","meta":{"security":[` + r + `],` + vid + `}}`,
			`{"resourceType":"Bundle","meta":{` + vid + `}}`, nil},
		{"versionId then security", `{"resourceType":"Bundle","meta":{` + vid + `,"security":[` + r + `]}}`,
			`{"resourceType":"Bundle","meta":{` + vid + `}}`, nil},
		{"tag object", `{"resourceType":"Bundle","meta":{` + vid + `,"tag":` + sud + `}}`,
			`{"resourceType":"Bundle","meta":{` + vid + `}}`, nil},
		{"security and tag side by side, first", `{"resourceType":"Bundle","meta":{"security":[` + r + `],"tag":[` + sud + `],` + vid + `}}`,
			`{"resourceType":"Bundle","meta":{` + vid + `}}`, nil},
		{"security and tag side by side, last", `{"resourceType":"Bundle","meta":{` + vid + `,"tag":[` + sud + `],"security":[` + r + `]}}`,
			`{"resourceType":"Bundle","meta":{` + vid + `}}`, nil},
		{"security and tag apart", `{"resourceType":"Bundle","meta":{"tag":[` + sud + `],` + vid + `,"security":[` + r + `],"lastUpdated":"x"}}`,
			`{"resourceType":"Bundle","meta":{` + vid + `,"lastUpdated":"x"}}`, nil},
		{"security gone, another tag kept", `{"resourceType":"Bundle","meta":{"security":[` + r + `],"tag":[` + sud + `,` + other + `]}}`,
			`{"resourceType":"Bundle","meta":{"tag":[` + other + `]}}`, nil},
		{"escaped keys", `{"resourceType":"Bundle","m\u0065ta":{"s\u0065curity":[` + r + `],"t\u0061g":[` + sud + `]},"type":"x"}`,
			`{"resourceType":"Bundle","type":"x"}`, nil},
		{"pretty", "{\n  \"resourceType\" : \"Bundle\",\n  \"meta\" : {\n    \"versionId\" : \"2\",\n    \"security\" : [ " + r + " ],\n    \"tag\" : [\n      " + sud + "\n    ]\n  },\n  \"type\" : \"x\"\n}",
			"{\n  \"resourceType\" : \"Bundle\",\n  \"meta\" : {\n    \"versionId\" : \"2\"\n  },\n  \"type\" : \"x\"\n}", nil},
		{"pretty, meta goes", "{\n\t\"resourceType\": \"Bundle\",\n\t\"meta\": {\n\t\t\"security\": [\n\t\t\t" + r + "\n\t\t]\n\t},\n\t\"type\": \"x\"\n}",
			"{\n\t\"resourceType\": \"Bundle\",\n\t\"type\": \"x\"\n}", nil},
		{"pretty, meta last goes", "{\n  \"resourceType\": \"Bundle\",\n  \"meta\": { \"security\": [ " + r + " ] }\n}",
			"{\n  \"resourceType\": \"Bundle\"\n}", nil},
		// What the mark adds keeps the member.
		{"replaced", `{"resourceType":"Bundle","meta":{"security":[` + r + `]}}`,
			`{"resourceType":"Bundle","meta":{"security":[` + nWritten + `]}}`, nMark},
		{"the tag gives way to security", `{"resourceType":"Bundle","meta":{"tag":[` + sud + `]}}`,
			`{"resourceType":"Bundle","meta":{"security":[` + nWritten + `]}}`, nMark},
		{"the tag goes, security added after versionId", `{"resourceType":"Bundle","meta":{"tag":[` + sud + `],` + vid + `}}`,
			`{"resourceType":"Bundle","meta":{` + vid + `,"security":[` + nWritten + `]}}`, nMark},
		{"the tag goes, security added in its place", `{"resourceType":"Bundle","meta":{` + vid + `,"tag":[` + sud + `]}}`,
			`{"resourceType":"Bundle","meta":{` + vid + `,"security":[` + nWritten + `]}}`, nMark},
		// What the server sent stays.
		{"an empty meta stays", `{"resourceType":"Bundle","meta":{}}`, `{"resourceType":"Bundle","meta":{}}`, nil},
		{"an empty security stays", `{"resourceType":"Bundle","meta":{"security":[],"tag":[]}}`, `{"resourceType":"Bundle","meta":{"security":[],"tag":[]}}`, nil},
		{"an entry of no code stays", `{"resourceType":"Bundle","meta":{"security":[{"system":"urn:x"},` + r + `]}}`,
			`{"resourceType":"Bundle","meta":{"security":[{"system":"urn:x"}]}}`, nil},
	} {
		for _, at := range []bool{false, true} {
			b := []byte(c.in)
			var edits []fjson.Edit
			var err error
			if at {
				meta, as, ae := -1, 0, 0
				_ = fjson.ObjectEach(b, 0, func(key []byte, s, e int) error {
					switch {
					case fjson.KeyIs(key, "meta"):
						meta = s
					case fjson.KeyIs(key, "id"), fjson.KeyIs(key, "resourceType"):
						if e > ae {
							as, ae = s, e
						}
					}
					return nil
				})
				edits, err = labels.MarkEditsAt(b, meta, as, ae, c.mark)
			} else {
				edits, err = labels.MarkEdits(b, c.mark)
			}
			if err != nil {
				t.Fatalf("%s (at %v): %v", c.name, at, err)
			}
			out, err := fjson.Apply(nil, b, edits)
			if err != nil {
				t.Fatalf("%s (at %v): Apply: %v", c.name, at, err)
			}
			if string(out) != c.want || fjson.Validate(out, 64) != nil {
				t.Errorf("%s (at %v):\n got %s\nwant %s", c.name, at, out, c.want)
			}
			if c.mark == nil && strings.Count(string(out), "[]") > strings.Count(c.in, "[]") {
				t.Errorf("%s (at %v): an empty array left: %s", c.name, at, out)
			}
		}
	}
}
