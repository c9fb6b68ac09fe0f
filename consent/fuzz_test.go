package consent

import (
	"testing"
	"time"
)

// FuzzParse checks that no input panics the validator, and that whatever it
// accepts can be stamped, re-read and normalised.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{tpoConsent, part2Consent, treeConsent, `{}`, `[]`, `{"provision":{"provision":[{}]}}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
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
