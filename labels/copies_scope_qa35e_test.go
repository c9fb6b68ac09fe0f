package labels_test

import (
	"slices"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestCopiesStandOnlyInTheirOwnBundleQA35E: within one batch, a copy of
// Condition/c1 inside a stored Bundle (Result.CopyIn), or a contained
// resource with id c1 (Result.ContainedIn), is not the server's
// Condition/c1. A reference by Type/id from elsewhere in the batch found it
// in the batch index: the server's Condition/c1 (an opioid use disorder)
// was never read, and the order naming it as its reason took the copy's
// labels (none) and went out as ordinary. A reference from the copy's own
// Bundle (a document's Composition, another entry) still finds it, and a
// versioned reference reads the server's version.
func TestCopiesStandOnlyInTheirOwnBundleQA35E(t *testing.T) {
	t.Parallel()
	const copyOfC1 = `{"resourceType":"Condition","id":"c1","meta":{"versionId":"3"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"J06.9"}]}}`
	const container = `{"resourceType":"Observation","id":"o9","contained":[` + copyOfC1 + `]}`
	sudCopy := `{"resourceType":"Condition","id":"c7","meta":{"versionId":"3"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`
	for name, ref := range map[string]string{"current": "Condition/c1", "version": "Condition/c1/_history/3"} {
		for _, how := range []string{"copy", "contained", "copies"} {
			t.Run(name+"/"+how, func(t *testing.T) {
				t.Parallel()
				l := part2Labeller(t, 100)
				u := newUpstream(sudReason)
				u.byKey["Condition/c1/_history/3"] = sudReason
				var out []labels.Result
				switch how {
				case "copy", "contained":
					b := l.NewBatch()
					out = make([]labels.Result, 2)
					if err := b.AddValid([]byte(order(ref)), &out[0]); err != nil {
						t.Fatal(err)
					}
					res := copyOfC1
					if how == "contained" {
						res = container
					}
					if err := b.AddValid([]byte(res), &out[1]); err != nil {
						t.Fatal(err)
					}
					if how == "copy" {
						out[1].CopyIn(7)
					} else {
						var c labels.Result
						if err := b.AddValid([]byte(copyOfC1), &c); err != nil {
							t.Fatal(err)
						}
						c.ContainedIn(&out[1])
					}
					if err := b.Resolve(u.fetch); err != nil {
						t.Fatal(err)
					}
					b.Finish()
				case "copies":
					var err error
					out, err = l.LabelAllResolvingCopies([][]byte{[]byte(order(ref)), []byte(copyOfC1), []byte(copyOfC1)}, true, u.fetch,
						[]labels.Copy{{}, {Scope: 3}, {Contained: true}})
					if err != nil {
						t.Fatal(err)
					}
				}
				if !out[0].Labels.Has(labels.SUD) {
					t.Fatalf("the order naming %s took a copy's labels %v for the server's (asked %v)", ref, out[0].Labels, u.askedFor())
				}
			})
		}
	}

	// Within its own Bundle a copy stands for its Type/id: a document's
	// entry naming Condition/c7 takes the document's copy, unread; the
	// same reference from the response's own entries reads the server's.
	l := part2Labeller(t, 100)
	u := newUpstream(`{"resourceType":"Condition","id":"c7"}`)
	b := l.NewBatch()
	out := make([]labels.Result, 3)
	for k, res := range []string{order("Condition/c7"), sudCopy, order("Condition/c7")} {
		if err := b.AddValid([]byte(res), &out[k]); err != nil {
			t.Fatal(err)
		}
	}
	out[0].CopyIn(5)
	out[1].CopyIn(5)
	if err := b.Resolve(u.fetch); err != nil {
		t.Fatal(err)
	}
	b.Finish()
	if !out[0].Labels.Has(labels.SUD) {
		t.Fatalf("the document's order did not take its own copy's labels: %v", out[0].Labels)
	}
	if out[2].Labels.Has(labels.SUD) || !slices.Equal(u.askedFor(), []string{"Condition/c7"}) {
		t.Fatalf("the response's own order: labels %v, asked %v; want the server's Condition/c7 read", out[2].Labels, u.askedFor())
	}
}
