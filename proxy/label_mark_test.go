package proxy

import (
	"sort"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
)

const (
	markSUD      = `{"resourceType":"Condition","id":"sud","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]},"subject":{"reference":"Patient/p1"}}`
	markHIV      = `{"resourceType":"Condition","id":"hiv","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"B20"}]},"subject":{"reference":"Patient/p1"}}`
	markOrdinary = `{"resourceType":"Observation","id":"bp","status":"final","subject":{"reference":"Patient/p1"}}`
)

// markRun collects and labels body and decides each item by permit(res).
func markRun(t *testing.T, body string, permit func(labels.Result) bool) (*run, *bundleNode) {
	t.Helper()
	r := &run{body: []byte(body)}
	root, _, err := r.collect()
	if err != nil || root == nil {
		t.Fatalf("collect: %v", err)
	}
	batch := make([][]byte, len(r.items))
	for k, it := range r.items {
		batch[k] = r.body[it.start:it.end]
	}
	rs, err := labels.Default().LabelAll(batch)
	if err != nil {
		t.Fatal(err)
	}
	for k, it := range r.items {
		rs[k] = rs[k].WholeResource()
		it.res = &rs[k]
		effect := policy.Deny
		if permit(*it.res) {
			effect = policy.Permit
		}
		it.class = &class{decision: policy.Decision{Effect: effect}}
	}
	return r, root
}

func bundleOf(meta string, resources ...string) string {
	var sb strings.Builder
	sb.WriteString(`{"resourceType":"Bundle","id":"b"` + meta + `,"type":"searchset","entry":[`)
	for k, res := range resources {
		if k > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"resource":` + res + `}`)
	}
	sb.WriteString(`]}`)
	return sb.String()
}

// markOf applies bundleMarkEdits to the Bundle and returns its
// meta.security codes, sorted.
func markOf(t *testing.T, r *run, b *bundleNode) []string {
	t.Helper()
	edits, dropMeta, err := r.bundleMarkEdits(b)
	if err != nil {
		t.Fatal(err)
	}
	if dropMeta {
		edits = removeMembers(b.members, []int{b.metaIdx})
	}
	out, err := fjson.Apply(nil, r.body, edits)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if err := fjson.Validate(out, 64); err != nil {
		t.Fatalf("invalid Bundle after the mark: %v\n%s", err, out)
	}
	res, err := labels.Default().Label(out)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, lb := range res.Existing {
		codes = append(codes, lb.Code)
	}
	sort.Strings(codes)
	return codes
}

func noSUD(res labels.Result) bool { return !res.Labels.Has(labels.SUD) }
func all(labels.Result) bool       { return true }

func TestBundleMarkEdits(t *testing.T) {
	t.Parallel()
	upstreamMark := `,"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SUD"},{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"SUBSETTED"}]}`
	tests := []struct {
		name   string
		body   string
		permit func(labels.Result) bool
		want   string
	}{
		{"all disclosed", bundleOf("", markSUD, markHIV, markOrdinary), all, "HIV OPIOIDUD R SUD"},
		{"withheld SUD leaves no mark", bundleOf("", markSUD, markHIV, markOrdinary), noSUD, "HIV R"},
		{"ordinary only", bundleOf("", markOrdinary), all, ""},
		{"upstream SUD mark removed, other systems kept", bundleOf(upstreamMark, markSUD, markOrdinary), noSUD, "SUBSETTED"},
		{"upstream mark kept when supported", bundleOf(upstreamMark, markSUD), all, "OPIOIDUD R SUBSETTED SUD"},
		{"nested Bundle counted", bundleOf("", bundleOf("", markHIV)), all, "HIV R"},
		{"nothing disclosed", bundleOf("", markSUD), func(labels.Result) bool { return false }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, root := markRun(t, tc.body, tc.permit)
			if got := strings.Join(markOf(t, r, root), " "); got != tc.want {
				t.Errorf("mark %q, want %q", got, tc.want)
			}
		})
	}
}

// TestBundleMarkNoObligations checks that obligations and refrains added by
// a decision (NORDSCLCD) stay out of the mark, while policy codes go in.
func TestBundleMarkNoObligations(t *testing.T) {
	t.Parallel()
	r, root := markRun(t, bundleOf("", markSUD), all)
	r.items[0].class.decision.Obligations = []string{
		labels.SystemActCode + "|NORDSCLCD", labels.SystemActCode + "|42CFRPart2", labels.SystemActCode + "|PROCESSINLINELABEL",
	}
	if got := strings.Join(markOf(t, r, root), " "); got != "42CFRPart2 OPIOIDUD R SUD" {
		t.Errorf("mark %q, want %q", got, "42CFRPart2 OPIOIDUD R SUD")
	}
}

// TestBundleMarkBesideOtherEdits checks that the mark's edits combine with
// the edits renderBundle makes when total is removed right after the id.
func TestBundleMarkBesideOtherEdits(t *testing.T) {
	t.Parallel()
	body := `{"resourceType":"Bundle","id":"b","total":2,"entry":[{"resource":` + markSUD + `}]}`
	r, root := markRun(t, body, all)
	edits, _, err := r.bundleMarkEdits(root)
	if err != nil {
		t.Fatal(err)
	}
	edits = append(edits, removeMembers(root.members, []int{root.totalIdx})...)
	sort.Slice(edits, func(i, j int) bool { return edits[i].Start < edits[j].Start })
	out, err := fjson.Apply(nil, r.body, edits)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if err := fjson.Validate(out, 64); err != nil || strings.Contains(string(out), "total") {
		t.Fatalf("bad Bundle: %v\n%s", err, out)
	}
}
