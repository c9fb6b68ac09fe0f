package labels_test

import (
	"strings"
	"testing"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
)

// TestTagLabelsQA25C: a confidentiality or v3-ActCode security label an
// upstream put in meta.tag instead of meta.security labels the resource
// (and is written to meta.security): read as a mere tag, a note the EHR
// marked SUD and R was disclosed as ordinary. Other tags, and codes of
// other systems, stay tags.
func TestTagLabelsQA25C(t *testing.T) {
	t.Parallel()
	l := labels.Default()
	in := `{"resourceType":"DocumentReference","id":"d","meta":{"tag":[` +
		`{"system":"http://example.org/tags","code":"SUD"},` +
		`{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"},` +
		`{"system":"https://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"},` +
		`{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}]}}`
	r, err := l.Label([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Labels.Has(labels.SUD) || !r.Labels.Has(labels.Restricted) || !r.Changed {
		t.Fatalf("labels %v, changed %v; want SUD and R from meta.tag", r.Labels, r.Changed)
	}
	if len(r.Labels) != 2 {
		t.Errorf("labels %v: only the tags' security labels count", r.Labels)
	}
	paths := map[string]string{}
	for _, rs := range r.Reasons {
		paths[rs.Label.Code] = rs.Rule + " " + rs.Path
	}
	if paths["SUD"] != "meta.tag meta.tag[2]" || paths["R"] != "meta.tag meta.tag[1]" {
		t.Errorf("reasons %+v", r.Reasons)
	}
	// Edits write them where they belong.
	edits, err := l.Edits([]byte(in), r)
	if err != nil {
		t.Fatal(err)
	}
	out, err := fjson.Apply(nil, []byte(in), edits)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := l.Label(out); err != nil || !again.Existing.Has(labels.SUD) || !again.Existing.Has(labels.Restricted) {
		t.Errorf("after edits, meta.security lacks them: %s", out)
	}
	// A tag cannot lower a label: N in meta.tag on an R resource.
	r, err = l.Label([]byte(`{"resourceType":"Basic","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"V"}],"tag":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}]}}`))
	if c, _ := r.Labels.Confidentiality(); err != nil || c != "V" {
		t.Errorf("tag N lowered V: %v, %v", r.Labels, err)
	}
	// A checked and a valid walk read them too.
	rs, err := l.LabelAllValid([][]byte{[]byte(in)})
	if err != nil || !rs[0].Labels.Has(labels.SUD) {
		t.Errorf("LabelAllValid: %v, %v", rs, err)
	}
}

// TestBundleTagMarkQA25C: a Bundle whose upstream put security labels in
// its meta.tag loses them when its mark is written (MarkEdits and
// MarkEditsAt), other tags kept: they summarised entries that may have
// been withheld, which they would still tell of.
func TestBundleTagMarkQA25C(t *testing.T) {
	t.Parallel()
	other := `{"system":"http://example.org/tags","code":"SUD"}`
	for name, bundle := range map[string]string{
		"tag only":           `{"resourceType":"Bundle","id":"b","meta":{"tag":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"},` + other + `,{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]},"type":"searchset"}`,
		"tag and security":   `{"resourceType":"Bundle","id":"b","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HIV"}],"tag":[` + other + `,{"system":"https://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"}]},"type":"searchset"}`,
		"security after tag": `{"resourceType":"Bundle","id":"b","meta":{"tag":[{"code":"R"},` + other + `],"security":[]},"type":"searchset"}`,
	} {
		for _, at := range []bool{false, true} {
			b := []byte(bundle)
			var edits []fjson.Edit
			var err error
			if at {
				meta := strings.Index(bundle, `"meta":`) + len(`"meta":`)
				id := strings.Index(bundle, `"b"`)
				edits, err = labels.MarkEditsAt(b, meta, id, id+3, nil)
			} else {
				edits, err = labels.MarkEdits(b, nil)
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			out, err := fjson.Apply(nil, b, edits)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			s := string(out)
			if strings.Contains(s, "v3-") || strings.Contains(s, `{"code":"R"}`) || !strings.Contains(s, other) || fjson.Validate(out, 64) != nil {
				t.Errorf("%s (at %v): %s", name, at, s)
			}
		}
	}
}
