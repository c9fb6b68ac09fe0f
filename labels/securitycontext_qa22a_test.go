package labels_test

import (
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// A Binary's access is governed by its securityContext (FHIR R4): a Binary
// labelled only N whose securityContext is a Part 2 DocumentReference
// inherits the DocumentReference's labels and patient (QA round 22: it was
// decided as ordinary data about no patient).
const (
	part2DocRef = `{"resourceType":"DocumentReference","id":"d1","meta":{"security":[` +
		`{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"},` +
		`{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"},` +
		`{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]},` +
		`"status":"current","subject":{"reference":"Patient/p1"},"content":[{"attachment":{"contentType":"application/pdf","url":"Binary/b1"}}]}`
	plainDocRef = `{"resourceType":"DocumentReference","id":"d2","status":"current","subject":{"reference":"Patient/p2"},"content":[{"attachment":{"contentType":"text/plain","url":"Binary/b2"}}]}`
)

func binaryIn(ctx string) string {
	return `{"resourceType":"Binary","id":"b1","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]},"contentType":"application/pdf"` +
		ctx + `,"data":"JVBERi0xLjQK"}`
}

func TestBinarySecurityContextInherits(t *testing.T) {
	t.Parallel()
	bin := binaryIn(`,"securityContext":{"reference":"DocumentReference/d1"}`)
	check := func(t *testing.T, r labels.Result) {
		t.Helper()
		for _, lb := range []labels.Label{labels.Restricted, labels.Part2Policy, labels.SUD} {
			if !r.Labels.Has(lb) {
				t.Errorf("Binary labels %v lack %v", r.Labels, lb)
			}
		}
		if r.Patient != "Patient/p1" || r.SubjectPatient != "Patient/p1" || r.PatientConflict {
			t.Errorf("Binary patient %q subject %q conflict %v, want Patient/p1 from its securityContext", r.Patient, r.SubjectPatient, r.PatientConflict)
		}
	}
	t.Run("fetched", func(t *testing.T) {
		t.Parallel()
		u := newUpstream(part2DocRef)
		got := labelResolving(t, part2Labeller(t, 100), u, bin)
		check(t, got[0])
	})
	t.Run("same batch, either order", func(t *testing.T) {
		t.Parallel()
		for _, batch := range [][]string{{bin, part2DocRef}, {part2DocRef, bin}} {
			got, err := part2Labeller(t, 0).LabelAll(toBytes(batch))
			if err != nil {
				t.Fatal(err)
			}
			for k := range got {
				if got[k].Type == "Binary" {
					check(t, got[k])
				}
			}
		}
	})
	t.Run("absolute local url, versioned", func(t *testing.T) {
		t.Parallel()
		u := newUpstream(part2DocRef)
		got := labelResolving(t, localLabeller(t), u, binaryIn(`,"securityContext":{"reference":"https://ehr.example/fhir/DocumentReference/d1/_history/3"}`))
		check(t, got[0])
	})
	t.Run("escaped member name", func(t *testing.T) {
		t.Parallel()
		u := newUpstream(part2DocRef)
		got := labelResolving(t, part2Labeller(t, 100), u, binaryIn(`,"securityCont\u0065xt":{"reference":"DocumentReference/d1"}`))
		check(t, got[0])
	})
	t.Run("cached target is read again for its patient", func(t *testing.T) {
		t.Parallel()
		l := part2Labeller(t, 100)
		u := newUpstream(plainDocRef)
		// d2 is ordinary: the cache learns that it passes nothing on.
		labelResolving(t, l, u, `{"resourceType":"Observation","id":"o","subject":{"reference":"Patient/p2"},"focus":[{"reference":"DocumentReference/d2"}]}`)
		got := labelResolving(t, l, u, binaryIn(`,"securityContext":{"reference":"DocumentReference/d2"}`))
		if got[0].Patient != "Patient/p2" || got[0].PatientConflict {
			t.Fatalf("Binary patient %q conflict %v, want Patient/p2 (asked %v)", got[0].Patient, got[0].PatientConflict, u.askedFor())
		}
	})
}

// Where the Binary's patient cannot be told from its securityContext, it
// is flagged PatientConflict, which withholds it: fail closed.
func TestBinarySecurityContextUnknownFailsClosed(t *testing.T) {
	t.Parallel()
	severalPatients := `{"resourceType":"DocumentReference","id":"d3","status":"current","subject":{"reference":"Patient/p1"},"author":[{"reference":"Patient/p9"}]}`
	otherBinary := `{"resourceType":"Binary","id":"b9","contentType":"text/plain","securityContext":{"reference":"DocumentReference/d1"}}`
	for _, tc := range []struct{ name, ctx string }{
		{"missing target", `,"securityContext":{"reference":"DocumentReference/gone"}`},
		{"another server", `,"securityContext":{"reference":"https://other.example/fhir/DocumentReference/d1"}`},
		{"identifier only", `,"securityContext":{"identifier":{"system":"urn:x","value":"d1"}}`},
		{"display only", `,"securityContext":{"display":"the Part 2 note"}`},
		{"urn:uuid", `,"securityContext":{"reference":"urn:uuid:0c2c3c1e-7a1c-4f1e-9a57-2f4b9e7b1d11"}`},
		{"not an object", `,"securityContext":[{"reference":"DocumentReference/d1"}]`},
		{"a Binary", `,"securityContext":{"reference":"Binary/b9"}`},
		{"own patient differs", `,"securityContext":{"reference":"DocumentReference/d1"},"extension":[{"url":"x","valueReference":{"reference":"Patient/p7"}}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := newUpstream(part2DocRef, otherBinary)
			got := labelResolving(t, localLabeller(t), u, binaryIn(tc.ctx))
			if r := got[0]; !r.PatientConflict || r.Patient != "" || r.SubjectPatient != "" || r.Patients != nil {
				t.Fatalf("Binary patient %q subject %q patients %v conflict %v, want a conflict (withheld)", r.Patient, r.SubjectPatient, r.Patients, r.PatientConflict)
			}
		})
	}
	t.Run("no fetch", func(t *testing.T) {
		t.Parallel()
		got, err := part2Labeller(t, 100).LabelAll(toBytes([]string{binaryIn(`,"securityContext":{"reference":"DocumentReference/d1"}`)}))
		if err != nil {
			t.Fatal(err)
		}
		if !got[0].PatientConflict {
			t.Fatalf("Binary whose securityContext was not read: patient %q, want a conflict", got[0].Patient)
		}
	})
	t.Run("several patients", func(t *testing.T) {
		t.Parallel()
		u := newUpstream(severalPatients)
		got := labelResolving(t, part2Labeller(t, 100), u, binaryIn(`,"securityContext":{"reference":"DocumentReference/d3"}`))
		if r := got[0]; r.PatientConflict || r.Patient != "Patient/p1" || len(r.Patients) != 2 || r.Patients[1] != "Patient/p9" {
			t.Fatalf("Binary patient %q patients %v conflict %v, want both of the target's", r.Patient, r.Patients, r.PatientConflict)
		}
	})
	t.Run("no securityContext", func(t *testing.T) {
		t.Parallel()
		got := labelResolving(t, part2Labeller(t, 100), newUpstream(), binaryIn(""))
		if r := got[0]; r.PatientConflict || r.Patient != "" || r.Labels.Has(labels.SUD) {
			t.Fatalf("plain Binary: patient %q conflict %v labels %v", r.Patient, r.PatientConflict, r.Labels)
		}
	})
}

// localLabeller is part2Labeller that takes https://ehr.example/fhir as
// the server whose data it labels (labels.Options.LocalServer).
func localLabeller(t *testing.T) *labels.Labeller {
	t.Helper()
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), CacheSize: 100,
		LocalServer: func(base string) bool { return base == "https://ehr.example/fhir" }})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func toBytes(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for k, s := range ss {
		out[k] = []byte(s)
	}
	return out
}

// A propagating member whose name holds an escape is that member to every
// JSON client: "reasonR\u0065ference" passed no labels on (QA round 22),
// nor did a reference in an escaped "ext\u0065nsion" or an escaped
// DocumentReference context "rel\u0061ted".
func TestEscapedMemberNamesPropagate(t *testing.T) {
	t.Parallel()
	for _, res := range []string{
		`{"resourceType":"MedicationRequest","id":"mr","reasonR\u0065ference":[{"reference":"Condition/c1"}]}`,
		`{"resourceType":"MedicationRequest","id":"mr","\u0072easonReference":[{"reference":"Condition/c1"}]}`,
		`{"resourceType":"MedicationRequest","id":"mr","note":[{"ext\u0065nsion":[{"url":"x","valueReference":{"reference":"Condition/c1"}}]}]}`,
		`{"resourceType":"DocumentReference","id":"dr","status":"current","context":{"rel\u0061ted":[{"reference":"Condition/c1"}]}}`,
	} {
		got, err := part2Labeller(t, 0).LabelAll(toBytes([]string{res, sudReason}))
		if err != nil {
			t.Fatal(err)
		}
		if !got[0].Labels.Has(labels.SUD) {
			t.Errorf("%s: labels %v, want SUD from Condition/c1", res, got[0].Labels)
		}
	}
}
