package labels_test

import (
	"strings"
	"testing"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
)

// TestEditsWithPolicyLabels writes labels a caller added to a Result (as the
// proxy does with obligations such as 42CFRPart2 and NORDSCLCD).
func TestEditsWithPolicyLabels(t *testing.T) {
	t.Parallel()
	part2 := labels.Label{System: labels.SystemActCode, Code: "42CFRPart2"}
	nordsclcd := labels.Label{System: labels.SystemActCode, Code: "NORDSCLCD"}
	tests := []struct {
		name, in, want string
		add            labels.Set
	}{
		{
			name: "appended after existing",
			in:   `{"resourceType":"Condition","meta":{"security":[{"system":"` + labels.SystemConfidentiality + `","code":"R"}]}}`,
			add:  labels.NewSet(part2, nordsclcd),
			want: `{"resourceType":"Condition","meta":{"security":[{"system":"` + labels.SystemConfidentiality + `","code":"R"},` +
				`{"system":"` + labels.SystemActCode + `","code":"42CFRPart2"},{"system":"` + labels.SystemActCode + `","code":"NORDSCLCD"}]}}`,
		},
		{
			name: "meta created first when no id or type precedes",
			in:   `{"status":"final","resourceType":"Observation"}`,
			add:  labels.NewSet(part2),
			want: `{"status":"final","resourceType":"Observation","meta":{"security":[{"system":"` + labels.SystemActCode + `","code":"42CFRPart2"}]}}`,
		},
		{
			name: "empty meta",
			in:   `{"resourceType":"Observation","meta":{ }}`,
			add:  labels.NewSet(part2),
			want: `{"resourceType":"Observation","meta":{"security":[{"system":"` + labels.SystemActCode + `","code":"42CFRPart2"}] }}`,
		},
		{
			name: "a lower wanted confidentiality never replaces a higher one",
			in:   `{"resourceType":"Observation","meta":{"security":[{"system":"` + labels.SystemConfidentiality + `","code":"V"}]}}`,
			add:  labels.NewSet(labels.Restricted, part2),
			want: `{"resourceType":"Observation","meta":{"security":[{"system":"` + labels.SystemConfidentiality + `","code":"V"},{"system":"` + labels.SystemActCode + `","code":"42CFRPart2"}]}}`,
		},
		{
			name: "lower confidentiality after the kept one is removed with its comma",
			in:   `{"resourceType":"Observation","meta":{"security":[{"system":"` + labels.SystemConfidentiality + `","code":"R"}, {"system":"` + labels.SystemConfidentiality + `","code":"L"}]}}`,
			add:  labels.NewSet(confV),
			want: `{"resourceType":"Observation","meta":{"security":[{"system":"` + labels.SystemConfidentiality + `","code":"V"}]}}`,
		},
	}
	l := labels.Default()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := l.Label([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			r.Labels = r.Labels.Union(tt.add)
			r.Changed = true
			edits, err := l.Edits([]byte(tt.in), r)
			if err != nil {
				t.Fatal(err)
			}
			out, err := fjson.Apply(nil, []byte(tt.in), edits)
			if err == nil {
				out = stripClassifier(out)
			}
			if err != nil || string(out) != tt.want {
				t.Fatalf("labelled = %s (%v)\nwant       %s", out, err, tt.want)
			}
		})
	}
}

func TestEditsErrors(t *testing.T) {
	t.Parallel()
	changed := labels.Result{Labels: labels.NewSet(labels.SUD), Changed: true}
	tests := []struct {
		name, in, err string
	}{
		{name: "not an object", in: `[]`, err: "expected object"},
		{name: "duplicate meta", in: `{"meta":{},"meta":{}}`, err: `duplicate "meta"`},
		{name: "meta not an object", in: `{"meta":1}`, err: `"meta" is not an object`},
		{name: "security not an array", in: `{"meta":{"security":"R"}}`, err: "not an array"},
		{name: "malformed entry", in: `{"meta":{"security":[{"code":}]}}`, err: "invalid character"},
	}
	l := labels.Default()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := l.Edits([]byte(tt.in), changed)
			if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "labels: ") {
				t.Fatalf("Edits = %v, want error containing %q", err, tt.err)
			}
		})
	}
}

func TestEditsUnchanged(t *testing.T) {
	t.Parallel()
	edits, err := labels.Default().Edits([]byte(`not even json`), labels.Result{Labels: labels.NewSet(labels.SUD)})
	if err != nil || edits != nil {
		t.Fatalf("Edits for an unchanged Result = %v, %v; want none", edits, err)
	}
}

// classifierExt is the extension Edits writes on every label it adds.
const classifierExt = `"extension":[{"url":"` + labels.ExtClassifier + `","valueReference":{"display":"` + labels.Classifier + `"}}],`

// stripClassifier removes the classifier extension from labels written
// without a basis, so that tests can compare the rest.
func stripClassifier(b []byte) []byte {
	return []byte(strings.ReplaceAll(string(b), classifierExt, ""))
}

func TestEditsWriteClassifierAndBasis(t *testing.T) {
	t.Parallel()
	in := `{"resourceType":"Condition","id":"c"}`
	r := labels.Result{Labels: labels.NewSet(labels.SUD, labels.Part2Policy), Changed: true,
		Reasons: []labels.Reason{{Label: labels.Part2Policy, Basis: "42CFRPart2"}}}
	edits, err := labels.Default().Edits([]byte(in), r)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := fjson.Apply(nil, []byte(in), edits)
	want := `{"resourceType":"Condition","id":"c","meta":{"security":[{"extension":[{"url":"` + labels.ExtClassifier +
		`","valueReference":{"display":"ds4p labeller"}},{"url":"` + labels.ExtBasis + `","valueCoding":{"system":"` + labels.SystemActCode +
		`","code":"42CFRPart2"}}],"system":"` + labels.SystemActCode + `","code":"42CFRPart2"},{` + classifierExt + `"system":"` + labels.SystemActCode + `","code":"SUD"}]}}`
	if string(out) != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
}
