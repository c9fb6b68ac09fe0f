package consent

import (
	"reflect"
	"testing"
)

// FuzzValidateNormalize drives the public validator and the normaliser on
// the same input: neither panics; both say the same thing twice; the
// validator never accepts what the normaliser cannot read, the two agree
// on the patient and status; and every normalised rule is a permit or a
// deny.
func FuzzValidateNormalize(f *testing.F) {
	for _, seed := range []string{tpoConsent, part2Consent, treeConsent, `{}`, `null`, `{"resourceType":"Consent"}`,
		`{"resourceType":"Consent","status":"active","patient":{"reference":"Patient/p"},"provision":{"type":"permit","provision":[{"type":"deny","provision":[{}]}]}}`,
		`{"resourceType":"Consent","status":"active","subject":{"reference":"Patient/p"},"decision":"deny","provision":[{"actor":[{"reference":{"reference":"Organization/o"}}]}]}`} {
		f.Add([]byte(seed), uint8(0))
	}
	f.Fuzz(func(t *testing.T, raw []byte, rel uint8) {
		release := []Release{ReleaseAuto, ReleaseR4, ReleaseR5}[rel%3]
		info, err := ValidateRelease(raw, release)
		info2, err2 := ValidateRelease(raw, release)
		if (err == nil) != (err2 == nil) || info != info2 {
			t.Fatalf("ValidateRelease is not deterministic: %v/%v %+v/%+v", err, err2, info, info2)
		}
		n, nerr := Normalize(Record{ID: "fuzz", Version: 1, JSON: raw})
		n2, nerr2 := Normalize(Record{ID: "fuzz", Version: 1, JSON: raw})
		if (nerr == nil) != (nerr2 == nil) || !reflect.DeepEqual(n, n2) {
			t.Fatalf("Normalize is not deterministic: %v/%v", nerr, nerr2)
		}
		if nerr == nil {
			for _, r := range n.Rules {
				if r.Type != "permit" && r.Type != "deny" {
					t.Fatalf("a rule of type %q: %+v", r.Type, r)
				}
			}
		}
		if release != ReleaseAuto || err != nil {
			return
		}
		if nerr != nil {
			t.Fatalf("Validate accepted what Normalize refuses: %v", nerr)
		}
		if n.Patient != info.Patient || n.Status != info.Status {
			t.Fatalf("Validate says %+v, Normalize %q %q", info, n.Patient, n.Status)
		}
	})
}
