package proxy

import (
	"net/http"
	"strings"
	"testing"
)

// QA round 38, area G (D-2 of area D): the high-water mark removes the
// labels of a Bundle its disclosed entries do not support, and left the
// member that held them: org-b's GET Bundle/b1, b1 a collection its EHR
// labelled R as a whole holding the Condition "Opioid use disorder",
// answered 200 `"meta":{"versionId":"2","security":[]}` where the same
// collection stored unlabelled, its Condition labelled R on its own,
// answers `"meta":{"versionId":"2"}`: the empty array told org-b that the
// Bundle itself was restricted (and an empty array is no valid FHIR JSON).
// So for meta.tag, for a meta left empty ("meta":{}), in a search of
// Bundles, on a type history page, and for a searchset an upstream labelled
// R for a match that was withheld. Each world is compared byte for byte
// with the one without the restricted label.

// qa38gSig is a Bundle.signature: it goes when entries are withheld, beside
// the meta that goes.
const qa38gSig = `"signature":{"type":[{"system":"urn:iso-astm:E1762-95:2013","code":"1.2.840.10065.1.12.1.1"}],"when":"2026-01-01T00:00:00Z","who":{"display":"Dr A"},"data":"c2ln"}`

func TestMarkLeavesNoEmptyMemberQA38G(t *testing.T) {
	t.Parallel()
	condR := `{"resourceType":"Condition","id":"c1","meta":{"security":[` + qa36eR + `]},"subject":{"reference":"Patient/p1"},"code":{"text":"Opioid use disorder"}}`
	other := `{"system":"http://example.org/tags","code":"x"}`
	sec, tag := `"security":[`+qa36eR+`]`, `"tag":[`+qa36eSUD+`]`
	for _, c := range []struct {
		name             string
		labelled, plain  string // b1's meta in each world ("" none)
		metaLast, signed bool
	}{
		{"versionId and security", `{"versionId":"2",` + sec + `}`, `{"versionId":"2"}`, false, false},
		{"security and versionId", `{` + sec + `,"versionId":"2"}`, `{"versionId":"2"}`, false, false},
		{"security alone", `{` + sec + `}`, "", false, false},
		{"security alone, meta last", `{` + sec + `}`, "", true, false},
		{"tag alone", `{` + tag + `}`, "", false, false},
		{"tag as one object", `{"tag":` + qa36eSUD + `}`, "", false, false},
		{"security and tag", `{` + sec + `,` + tag + `}`, "", false, false},
		{"security and tag, a member after", `{` + sec + `,` + tag + `,"lastUpdated":"2026-01-01T00:00:00Z"}`, `{"lastUpdated":"2026-01-01T00:00:00Z"}`, false, false},
		{"security and tag after a member", `{"versionId":"2",` + tag + `,` + sec + `}`, `{"versionId":"2"}`, false, false},
		{"tag, a member, security", `{` + tag + `,"versionId":"2",` + sec + `}`, `{"versionId":"2"}`, false, false},
		{"another tag stays", `{` + sec + `,"tag":[` + qa36eSUD + `,` + other + `]}`, `{"tag":[` + other + `]}`, false, false},
		{"escaped keys", `{"s\u0065curity":[` + qa36eR + `],"versionId":"2"}`, `{"versionId":"2"}`, false, false},
		{"signed", `{` + sec + `}`, "", false, true},
		{"signed, meta last", `{` + sec + `}`, "", true, true},
		{"signed, versionId", `{"versionId":"2",` + sec + `}`, `{"versionId":"2"}`, true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			paths := []string{"/fhir/Bundle/b1", "/fhir/Bundle?type=collection", "/fhir/Bundle/_history"}
			var got [2][]string
			for w, b1 := range []string{
				qa36eDoc("b1", "collection", c.labelled, c.metaLast),
				qa36eBundle("b1", "collection", c.plain, c.metaLast, condR),
			} {
				if c.signed && c.metaLast {
					b1 = strings.Replace(b1, `],"meta":`, `],`+qa38gSig+`,"meta":`, 1)
				} else if c.signed {
					b1 = strings.Replace(b1, `"timestamp":`, qa38gSig+`,"timestamp":`, 1)
				}
				search := `{"resourceType":"Bundle","type":"searchset","entry":[` +
					`{"fullUrl":"http://up/fhir/R4/Bundle/b1","resource":` + b1 + `,"search":{"mode":"match"}},` +
					`{"fullUrl":"http://up/fhir/R4/Bundle/b2","resource":` + qa36eBundle("b2", "collection", "", false, bpObs) + `,"search":{"mode":"match"}}]}`
				hist := `{"resourceType":"Bundle","type":"history","entry":[` +
					`{"fullUrl":"http://up/fhir/R4/Bundle/b1","resource":` + b1 + `,"request":{"method":"PUT","url":"Bundle/b1"},"response":{"status":"200 OK"}}]}`
				h := newHarness(t, routes(map[string]string{"/fhir/R4/Bundle/b1": b1, "/fhir/R4/Bundle": search, "/fhir/R4/Bundle/_history": hist}))
				for _, path := range paths {
					resp, body := h.get(path, tokOther)
					if resp.StatusCode != http.StatusOK || strings.Contains(body, "Opioid") {
						t.Fatalf("world %d %s: %d %s", w, path, resp.StatusCode, body)
					}
					assertValidJSON(t, body)
					got[w] = append(got[w], body)
				}
			}
			for k, path := range paths {
				if got[0][k] != got[1][k] {
					t.Errorf("%s: b1 labelled as a whole answers\n%s\nthe same b1 unlabelled, its Condition labelled\n%s", path, got[0][k], got[1][k])
				}
				for _, empty := range []string{`[]`, `{}`} {
					if strings.Contains(got[0][k], empty) {
						t.Errorf("%s: %s in %s", path, empty, got[0][k])
					}
				}
			}
		})
	}
}

// TestSearchsetMarkLeavesNoEmptyMemberQA38G: a searchset an upstream
// labelled (R, SUD in its tag) for the SUD Condition it matched, withheld
// from org-b, answers as the searchset without that match and its label,
// compact or pretty-printed.
func TestSearchsetMarkLeavesNoEmptyMemberQA38G(t *testing.T) {
	t.Parallel()
	bp := `{"fullUrl":"http://x/Observation/bp1","resource":` + bpObs + `,"search":{"mode":"match"}}`
	sud := `{"fullUrl":"http://x/Condition/sud1","resource":` + sudCondition + `,"search":{"mode":"match"}}`
	for _, c := range []struct{ name, labelled, plain string }{
		{"security alone",
			`{"resourceType":"Bundle","type":"searchset","meta":{"security":[` + qa36eR + `]},"total":2,"entry":[` + bp + `,` + sud + `]}`,
			`{"resourceType":"Bundle","type":"searchset","total":1,"entry":[` + bp + `]}`},
		{"lastUpdated, security, tag",
			`{"resourceType":"Bundle","type":"searchset","meta":{"lastUpdated":"2026-01-01T00:00:00Z","security":[` + qa36eR + `],"tag":[` + qa36eSUD + `]},"total":2,"entry":[` + bp + `,` + sud + `]}`,
			`{"resourceType":"Bundle","type":"searchset","meta":{"lastUpdated":"2026-01-01T00:00:00Z"},"total":1,"entry":[` + bp + `]}`},
		{"pretty, meta alone",
			"{\n  \"resourceType\": \"Bundle\",\n  \"type\": \"searchset\",\n  \"meta\": {\n    \"security\": [ " + qa36eR + " ]\n  },\n  \"entry\": [ " + bp + ", " + sud + " ]\n}",
			"{\n  \"resourceType\": \"Bundle\",\n  \"type\": \"searchset\",\n  \"entry\": [ " + bp + " ]\n}"},
		{"pretty, lastUpdated kept",
			"{\n  \"resourceType\": \"Bundle\",\n  \"type\": \"searchset\",\n  \"meta\": {\n    \"lastUpdated\": \"2026-01-01T00:00:00Z\",\n    \"security\": [ " + qa36eR + " ]\n  },\n  \"entry\": [ " + bp + ", " + sud + " ]\n}",
			"{\n  \"resourceType\": \"Bundle\",\n  \"type\": \"searchset\",\n  \"meta\": {\n    \"lastUpdated\": \"2026-01-01T00:00:00Z\"\n  },\n  \"entry\": [ " + bp + " ]\n}"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var got [2]string
			for w, body := range []string{c.labelled, c.plain} {
				h := newHarness(t, routes(map[string]string{"/fhir/R4/Observation": body}))
				resp, out := h.get("/fhir/Observation?subject=Patient/p1", tokOther)
				if resp.StatusCode != http.StatusOK || strings.Contains(out, "sud1") || !strings.Contains(out, "bp1") {
					t.Fatalf("world %d: %d %s", w, resp.StatusCode, out)
				}
				assertValidJSON(t, out)
				got[w] = out
			}
			if got[0] != got[1] {
				t.Errorf("the labelled searchset answers\n%s\nthe one without the match\n%s", got[0], got[1])
			}
		})
	}
}
