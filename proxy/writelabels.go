package proxy

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/ds4p/ds4p/labels"
)

// deepLabels are the security labels a resource carries below its own
// meta.security, counted: those of its contained resources, whatever
// their ids, and its elements' inline labels (DS4P
// extension-inline-sec-label), each with the element it labels.
type deepLabels struct {
	contained map[string]int // system|code -> how many contained resources carry it
	inline    map[string]int // the labelled element, then system|code -> how many
}

// readDeepLabels reads them from the JSON resource b (valid JSON).
func readDeepLabels(b []byte) (deepLabels, bool) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var top map[string]any
	if d.Decode(&top) != nil {
		return deepLabels{}, false
	}
	dl := deepLabels{contained: map[string]int{}, inline: map[string]int{}}
	if cs := oneOrMany(top["contained"]); cs != nil {
		for _, c := range cs {
			cm, _ := c.(map[string]any)
			meta, _ := cm["meta"].(map[string]any)
			sec, _ := meta["security"].([]any)
			seen := map[string]bool{}
			for _, l := range sec {
				if k, ok := codingKey(l); ok && !seen[k] {
					seen[k] = true
					dl.contained[k]++
				}
			}
			// A confidentiality or v3-ActCode label filed in its meta.tag
			// labels it too (QA round 40, area E).
			for _, l := range oneOrMany(meta["tag"]) {
				if !isTagLabel(l) {
					continue
				}
				if k, ok := codingKey(l); ok && !seen["tag\x00"+k] {
					seen["tag\x00"+k] = true
					dl.contained["tag\x00"+k]++
				}
			}
		}
	}
	var walk func(v any, root bool)
	walk = func(v any, root bool) {
		switch x := v.(type) {
		case map[string]any:
			if exts := oneOrMany(x["extension"]); exts != nil {
				for _, e := range exts {
					em, _ := e.(map[string]any)
					if u, _ := em["url"].(string); !labels.IsInlineURL(u) {
						continue
					}
					if k, ok := codingKey(em["valueCoding"]); ok {
						dl.inline[ownerKey(x, root)+"\x00"+k]++
					}
				}
			}
			for _, c := range x {
				walk(c, false)
			}
		case []any:
			for _, c := range x {
				walk(c, false)
			}
		}
	}
	walk(top, true)
	return dl, true
}

// isTagLabel tells whether the meta.tag coding v is one the labeller reads
// as a confidentiality or v3-ActCode label: under those systems in any
// spelling, or a known label code without a system or under another label
// system ({"code":"R"}: R), as labels.KnownLabel reads it. Only the
// systems' own spellings were counted: a contained Condition tagged
// {"code":"R"} labelled its container R (org-b 404), and an update
// dropping the tag stored the container ordinary (QA round 40, helper F).
func isTagLabel(v any) bool {
	m, _ := v.(map[string]any)
	sys, _ := m["system"].(string)
	code, _ := m["code"].(string)
	sys, code = strings.TrimSpace(sys), strings.TrimSpace(code)
	if n := labels.NormalizeSystem(sys); n == labels.SystemConfidentiality || n == labels.SystemActCode {
		return true
	}
	s, _, ok := labels.KnownLabel(sys, code)
	return ok && (s == labels.SystemConfidentiality || s == labels.SystemActCode)
}

// oneOrMany is the elements of the array v, or v alone when it is one
// object rather than an array of one (invalid FHIR JSON, but a server may
// store it, and the labeller reads it as the array's one element): a
// stored resource whose contained resource, or whose inline label's
// extension, was so written had labels no update was kept from removing
// (QA round 34, area A).
func oneOrMany(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case map[string]any:
		return []any{x}
	}
	return nil
}

// ownerKey names the element an inline label is on by its content, its
// extensions left out: a label moved to another element, or the element
// it labels changed, no longer has its key. The resource itself is one
// key whatever its content.
func ownerKey(x map[string]any, root bool) string {
	if root {
		return "#resource"
	}
	rest := make(map[string]any, len(x))
	for k, v := range x {
		if k != "extension" {
			rest[k] = v
		}
	}
	b, _ := json.Marshal(rest) // map keys sorted: one spelling per content
	return string(b)
}

func codingKey(v any) (string, bool) {
	m, _ := v.(map[string]any)
	sys, _ := m["system"].(string)
	code, _ := m["code"].(string)
	return sys + "|" + code, code != ""
}

func (d deepLabels) empty() bool { return len(d.contained) == 0 && len(d.inline) == 0 }

// checkDeepLabels refuses, without the label-writer role, a body to store
// in which a label the stored version carries below its own meta is
// missing: a label of its contained resources (counted over them all, so
// that neither a new id nor a missing one sheds it; removing a labelled
// contained resource needs the role), or an element's inline label (on
// that element: moved, or left on an element changed, it counts as
// removed; changing a labelled element needs the role). checkUpdateLabels
// looks at the resource's own labels; QA rounds 13 and 14 stripped a
// contained Observation's Part 2 labels (by update, patch, or under a new
// id) and moved an inline one to another element, and an organisation the
// consent denied then read the data.
func (s *Server) checkDeepLabels(ex *exchange, stored, body []byte) *Failure {
	if ex.caller.HasScope(LabelWriterScope) {
		return nil
	}
	before, ok := readDeepLabels(stored)
	if !ok || before.empty() {
		return nil
	}
	return deepLabelsLost(before, body)
}

// deepLabelsLost is checkDeepLabels for the stored labels read already.
func deepLabelsLost(before deepLabels, body []byte) *Failure {
	after, ok := readDeepLabels(body)
	if !ok {
		return fail(http.StatusBadRequest, "invalid", "the request body is not a FHIR resource", nil)
	}
	for l, n := range before.contained {
		if after.contained[l] < n {
			return fail(http.StatusForbidden, "forbidden", "an update may not remove security labels of the stored resource's contained resources, nor a labelled contained resource (the role "+LabelWriterScope+" may)", nil)
		}
	}
	for l, n := range before.inline {
		if after.inline[l] < n {
			return fail(http.StatusForbidden, "forbidden", "an update may not remove, move or change an element that carries an inline security label, nor its label (the role "+LabelWriterScope+" may)", nil)
		}
	}
	return nil
}
