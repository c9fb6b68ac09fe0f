package rego

import (
	"encoding/json"
	"slices"
	"sync"
)

// PurposeHierarchy returns config.purpose_hierarchy of the embedded policy
// data (ds4p/config/data.json): each v3-ActReason purpose of use with its
// direct narrower purposes (HPAYMT with COVERAGE, COVERAGE with ELIGVER,
// ...), the table the consent rules read (consent.rego,
// narrower_purposes). Go code that must reason about purposes as the
// embedded policy does reads it here rather than keeping a copy. Each call
// returns a copy of its own; nil when the data cannot be read (a test
// keeps that from shipping).
func PurposeHierarchy() map[string][]string {
	h := embeddedHierarchy()
	if h == nil {
		return nil
	}
	out := make(map[string][]string, len(h))
	for k, v := range h {
		out[k] = slices.Clone(v)
	}
	return out
}

var embeddedHierarchy = sync.OnceValue(func() map[string][]string {
	b, err := files.ReadFile("ds4p/config/data.json")
	if err != nil {
		return nil
	}
	var data struct {
		PurposeHierarchy map[string][]string `json:"purpose_hierarchy"`
	}
	if json.Unmarshal(b, &data) != nil {
		return nil
	}
	return data.PurposeHierarchy
})
