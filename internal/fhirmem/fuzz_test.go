package fhirmem

import (
	"encoding/json"
	"testing"
)

func FuzzIndex(f *testing.F) {
	for _, s := range []string{
		`{"resourceType":"Patient","id":"p"}`,
		`{"resourceType":"Observation","id":"o","subject":{"reference":"Patient/p"}}`,
		`{"resourceType":"Account","id":"a","subject":[{"reference":"Patient/p"}]}`,
		`{"resourceType":"Coverage","beneficiary":{"reference":"http://x/Patient/p/_history/1"}}`,
		`[]`, `{`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ix, err := index(body)
		if err != nil {
			return
		}
		if !json.Valid(body) || !typePattern.MatchString(ix.typ) {
			t.Fatalf("index accepted %q as %+v", body, ix)
		}
		if ix.patient != "" && !idPattern.MatchString(ix.patient) {
			t.Fatalf("index returned patient %q", ix.patient)
		}
		if ix.id == "" {
			var m map[string]any
			if err := json.Unmarshal(withID(body, "x"), &m); err != nil || m["id"] != "x" {
				t.Fatalf("withID broke %q: %v", body, err)
			}
		}
	})
}
