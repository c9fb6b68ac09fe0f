package labels

import (
	"slices"
	"testing"
	"time"
)

// TestReferrerPatients: a restricted resource that names no patient (a
// buprenorphine Medication, SUD by its RxNorm code) is the patients' of the
// records of the batch that name it, so that their consents can disclose
// it with the orders; alone, or unrestricted, it stays a resource of no
// patient; and the label cache passes none of those patients on to a later
// referrer.
func TestReferrerPatients(t *testing.T) {
	t.Parallel()
	const (
		bup   = `{"resourceType":"Medication","id":"bup","code":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"1819"}]}}`
		apap  = `{"resourceType":"Medication","id":"apap","code":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"161"}]}}`
		mr1   = `{"resourceType":"MedicationRequest","id":"mr1","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"medicationReference":{"reference":"Medication/bup"}}`
		mr2   = `{"resourceType":"MedicationRequest","id":"mr2","status":"active","intent":"order","subject":{"reference":"Patient/p2"},"medicationReference":{"reference":"Medication/bup"}}`
		mrApa = `{"resourceType":"MedicationRequest","id":"mr3","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"medicationReference":{"reference":"Medication/apap"}}`
	)
	l, err := NewLabeller(Options{Rules: DefaultRules(), CacheSize: 100, KnownTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	label := func(res ...string) []Result {
		t.Helper()
		in := make([][]byte, len(res))
		for i, r := range res {
			in[i] = []byte(r)
		}
		rs, err := l.LabelAll(in)
		if err != nil {
			t.Fatal(err)
		}
		return rs
	}
	patients := func(r Result) []string {
		if len(r.Patients) > 0 {
			return r.Patients
		}
		if r.Patient != "" {
			return []string{r.Patient}
		}
		return nil
	}
	if rs := label(bup); !restrictedLabels(rs[0].Labels) || rs[0].Patient != "" {
		t.Fatalf("bup alone: labels %v, patient %q; want restricted, none", rs[0].Labels, rs[0].Patient)
	}
	rs := label(mr1, bup)
	if got := patients(rs[1]); !slices.Equal(got, []string{"Patient/p1"}) || rs[1].SubjectPatient != "Patient/p1" {
		t.Fatalf("bup beside p1's order: patients %v, subject %q", got, rs[1].SubjectPatient)
	}
	if got := patients(rs[0]); !slices.Equal(got, []string{"Patient/p1"}) {
		t.Fatalf("p1's order: patients %v", got)
	}
	rs = label(mr1, mr2, bup)
	if got := patients(rs[2]); !slices.Equal(got, []string{"Patient/p1", "Patient/p2"}) || rs[2].SubjectPatient != "" {
		t.Fatalf("bup beside p1's and p2's orders: patients %v, subject %q", got, rs[2].SubjectPatient)
	}
	if got := patients(rs[1]); !slices.Equal(got, []string{"Patient/p2"}) {
		t.Fatalf("p2's order took another patient: %v", got)
	}
	// An unrestricted drug stays no patient's.
	if rs := label(mrApa, apap); rs[1].Patient != "" {
		t.Fatalf("acetaminophen beside p1's order: patient %q", rs[1].Patient)
	}
	// bup was noted by the cache above; p2's order alone, its target
	// known from the cache, stays p2's alone.
	if rs := label(mr2); !slices.Equal(patients(rs[0]), []string{"Patient/p2"}) {
		t.Fatalf("p2's order after bup was noted beside p1's: patients %v", patients(rs[0]))
	}
}
