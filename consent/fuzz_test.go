package consent

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzParse checks that no input panics the validator, and that whatever it
// accepts can be stamped, re-read and normalised.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{tpoConsent, part2Consent, treeConsent, `{}`, `[]`, `{"provision":{"provision":[{}]}}`,
		`{"resourceType":"Consent","status":"active","subject":{"reference":"Patient/p"},"decision":"permit","provision":[{"provision":[{}]}]}`} {
		f.Add([]byte(seed))
	}
	r5, _ := filepath.Glob(filepath.Join("testdata", "r5", "*.json"))
	for _, file := range r5 {
		if raw, err := os.ReadFile(file); err == nil {
			f.Add(raw)
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		// Whatever the input, the upstream path and the patient helpers
		// must not panic, and an unreadable consent never permits.
		if _, err := NormalizeUpstream(raw); err != nil {
			if n, ok := Unreadable(raw); ok && (len(n.Rules) != 1 || n.Rules[0].Type != "deny") {
				t.Fatalf("a stand-in that does not deny: %+v", n)
			}
		}
		PatientIdentifier(raw)
		doc, err := parse(raw, DefaultMaxSize)
		if err != nil {
			return
		}
		stamped, err := stamp(raw, "fuzz", 1, time.Unix(0, 0))
		if err != nil {
			t.Fatalf("stamp failed on an accepted consent: %v", err)
		}
		n, err := Normalize(Record{ID: "fuzz", Version: 1, JSON: stamped})
		if err != nil {
			t.Fatalf("Normalize rejected a stamped accepted consent: %v", err)
		}
		if n.Patient != doc.res.Patient.Reference || len(n.Rules) == 0 && doc.root != nil {
			t.Fatalf("Normalize lost the patient or the rules: %+v", n)
		}
	})
}

// FuzzParseQuery checks that no query string panics ParseQuery or Search.
func FuzzParseQuery(f *testing.F) {
	for _, seed := range []string{"patient=p1&status=active,inactive", "period=ge2026-01-01&period=lt2027", "actor=a|b&category=|x", "period=xx", "a=b"} {
		f.Add(seed)
	}
	s := newStore(f)
	if _, err := s.Put(context.Background(), []byte(tpoConsent)); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := ParseQuery(v)
		if err != nil {
			return
		}
		if _, err := s.Search(context.Background(), q); err != nil {
			t.Fatalf("Search(%q): %v", raw, err)
		}
	})
}
