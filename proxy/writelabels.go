package proxy

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/ds4p/ds4p/labels"
)

// deepLabels are the security labels a resource carries below its own
// meta.security: each contained resource's (by its id) and the inline
// labels of its elements (DS4P extension-inline-sec-label), counted.
type deepLabels struct {
	contained map[string]map[string]bool // contained id -> system|code
	inline    map[string]int             // system|code -> how many elements carry it
}

// readDeepLabels reads them from the JSON resource b (valid JSON).
func readDeepLabels(b []byte) (deepLabels, bool) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var top map[string]any
	if d.Decode(&top) != nil {
		return deepLabels{}, false
	}
	dl := deepLabels{contained: map[string]map[string]bool{}, inline: map[string]int{}}
	if cs, ok := top["contained"].([]any); ok {
		for _, c := range cs {
			cm, _ := c.(map[string]any)
			id, _ := cm["id"].(string)
			meta, _ := cm["meta"].(map[string]any)
			sec, _ := meta["security"].([]any)
			for _, l := range sec {
				if k, ok := codingKey(l); ok {
					if dl.contained[id] == nil {
						dl.contained[id] = map[string]bool{}
					}
					dl.contained[id][k] = true
				}
			}
		}
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if u, _ := x["url"].(string); u == labels.ExtInline {
				if k, ok := codingKey(x["valueCoding"]); ok {
					dl.inline[k]++
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(top)
	return dl, true
}

func codingKey(v any) (string, bool) {
	m, _ := v.(map[string]any)
	sys, _ := m["system"].(string)
	code, _ := m["code"].(string)
	return sys + "|" + code, code != ""
}

func (d deepLabels) empty() bool { return len(d.contained) == 0 && len(d.inline) == 0 }

// checkDeepLabels refuses, without the label-writer role, a body to store
// that drops a label the stored version carries below its own meta: a
// contained resource's (while the body keeps that contained resource) or
// an element's inline label (as many of each as stored). checkUpdateLabels
// looked at the resource's own labels only, and QA round 13 stripped a
// contained resource's Part 2 labels, and an element's inline one, by
// update and by JSON Patch; an organisation the consent denied then read
// the data.
func (s *Server) checkDeepLabels(ex *exchange, stored, body []byte) *Failure {
	if ex.caller.HasScope(LabelWriterScope) {
		return nil
	}
	before, ok := readDeepLabels(stored)
	if !ok || before.empty() {
		return nil
	}
	after, ok := readDeepLabels(body)
	if !ok {
		return fail(http.StatusBadRequest, "invalid", "the request body is not a FHIR resource", nil)
	}
	refuse := fail(http.StatusForbidden, "forbidden", "an update may not remove security labels of the stored resource (the role "+LabelWriterScope+" may)", nil)
	for id, ls := range before.contained {
		got, kept := after.contained[id]
		if !kept {
			if _, present := containedIDs(body)[id]; !present {
				continue // the contained resource itself is gone
			}
		}
		for l := range ls {
			if !got[l] {
				return refuse
			}
		}
	}
	for l, n := range before.inline {
		if after.inline[l] < n {
			return refuse
		}
	}
	return nil
}

// containedIDs are the ids of b's contained resources.
func containedIDs(b []byte) map[string]bool {
	var top struct {
		Contained []map[string]any `json:"contained"`
	}
	_ = json.Unmarshal(b, &top)
	ids := map[string]bool{}
	for _, c := range top.Contained {
		if id, ok := c["id"].(string); ok {
			ids[id] = true
		}
	}
	return ids
}
