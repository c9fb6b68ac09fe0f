package proxy

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/internal/synth"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
)

// The checked walk (collectChecked) must accept exactly the bodies the
// validating path (fjson.Validate, collect, labelBatch) accepts, and find
// and label the same resources: it replaces that path for every body it
// accepts, and the validating path decides every body it refuses.

// checkedServer is a Server for run-level tests, with a small nesting
// limit so that bodies on both sides of it stay short.
func checkedServer(t testing.TB) *Server {
	t.Helper()
	u, _ := url.Parse("http://upstream.example/fhir")
	eng, err := policy.New(context.Background(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Upstream: u, MaxJSONDepth: 12}, Deps{Labeller: labels.Default(), Decider: eng, Ledger: &fakeLedger{}, Auth: fakeAuth{}, Consents: &fakeConsents{}})
	if err != nil {
		t.Fatal(err)
	}
	// Reference targets the labelling reads are missing: answered here, not
	// by a DNS lookup of upstream.example, which made each of the mutation
	// test's 20,000 bodies wait on the network (81 s of its 82).
	s.client = &http.Client{Transport: missingTargets{}}
	return s
}

// missingTargets answers every request as a FHIR server does for a
// resource it does not hold.
type missingTargets struct{}

func (missingTargets) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_ = r.Body.Close()
	}
	body := `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`
	return &http.Response{
		StatusCode: http.StatusNotFound, Status: "404 Not Found", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/fhir+json"}},
		Body:   io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r,
	}, nil
}

// pathOutcome is what one path made of a body: nil runs when refused.
type pathOutcome struct {
	r      *run
	root   *bundleNode
	single *item
	err    error
}

func runChecked(s *Server, body []byte) pathOutcome {
	r := s.newRun(&exchange{}, body)
	root, single, err := r.collectChecked()
	if err == nil {
		err = r.finishChecked(context.Background())
	}
	return pathOutcome{r, root, single, err}
}

func runValidating(s *Server, body []byte) pathOutcome {
	if err := fjson.Validate(body, s.opts.MaxJSONDepth); err != nil {
		return pathOutcome{err: err}
	}
	r := s.newRun(&exchange{}, body)
	r.valid = true
	root, single, err := r.collect()
	if err == nil {
		err = r.labelBatch(context.Background())
	}
	return pathOutcome{r, root, single, err}
}

// samePaths fails unless both paths accept body or both refuse it, and
// when they accept, found the same resources, entries and labels.
func samePaths(t *testing.T, s *Server, body []byte) bool {
	t.Helper()
	return sameOutcomes(t, "checked walk", runChecked(s, body), "validating path", runValidating(s, body), body)
}

// sameOutcomes fails unless a and b (named an and bn) both refused body or
// both accepted it and found the same resources, entries and labels; it
// reports whether they accepted it.
func sameOutcomes(t *testing.T, an string, a pathOutcome, bn string, b pathOutcome, body []byte) bool {
	t.Helper()
	if (a.err == nil) != (b.err == nil) {
		t.Fatalf("%s: %v; %s: %v; body %.300q", an, a.err, bn, b.err, body)
	}
	if a.err != nil {
		return false
	}
	if (a.single == nil) != (b.single == nil) || (a.root == nil) != (b.root == nil) || len(a.r.items) != len(b.r.items) {
		t.Fatalf("%s found %d items (single %v), %s %d (single %v); body %.300q", an, len(a.r.items), a.single != nil, bn, len(b.r.items), b.single != nil, body)
	}
	for k, ai := range a.r.items {
		bi := b.r.items[k]
		if ai.start != bi.start || ai.end != bi.end || len(ai.contained) != len(bi.contained) {
			t.Fatalf("item %d: %s [%d,%d) %d contained, %s [%d,%d) %d contained", k, an, ai.start, ai.end, len(ai.contained), bn, bi.start, bi.end, len(bi.contained))
		}
		if !reflect.DeepEqual(*ai.res, *bi.res) {
			t.Fatalf("item %d: %s labels\n%+v\n%s\n%+v", k, an, *ai.res, bn, *bi.res)
		}
		for j, ac := range ai.contained {
			bc := bi.contained[j]
			if ac.start != bc.start || ac.end != bc.end || !reflect.DeepEqual(*ac.res, *bc.res) {
				t.Fatalf("item %d contained %d differs: %s [%d,%d) %+v, %s [%d,%d) %+v", k, j, an, ac.start, ac.end, *ac.res, bn, bc.start, bc.end, *bc.res)
			}
		}
	}
	if a.root != nil {
		sameBundle(t, a.root, b.root)
	}
	return true
}

func sameBundle(t *testing.T, c, v *bundleNode) {
	t.Helper()
	if c.start != v.start || c.end != v.end || c.typ != v.typ || !reflect.DeepEqual(c.members, v.members) || len(c.entries) != len(v.entries) {
		t.Fatalf("Bundles differ: checked %+v, validating %+v", c, v)
	}
	for k, ce := range c.entries {
		ve := v.entries[k]
		if ce.start != ve.start || ce.end != ve.end || ce.fullURL != ve.fullURL || ce.parts != ve.parts || (ce.item == nil) != (ve.item == nil) || (ce.nested == nil) != (ve.nested == nil) {
			t.Fatalf("entry %d differs: checked %+v, validating %+v", k, ce, ve)
		}
		if ce.nested != nil {
			sameBundle(t, ce.nested, ve.nested)
		}
	}
}

// checkedBundle is a Bundle with what collect treats specially: a nested
// Bundle, contained resources (one spelt with an escape), a Parameters,
// a sensitive Condition referenced by another entry, an entry without a
// resource, paging links and a total.
const checkedBundle = `{"resourceType":"Bundle","type":"searchset","total":6,` +
	`"link":[{"relation":"self","url":"http://upstream.example/fhir/Observation"},{"relation":"next","url":"http://upstream.example/fhir/Observation?page=2"}],` +
	`"entry":[` +
	`{"fullUrl":"http://upstream.example/fhir/Condition/sud","resource":{"resourceType":"Condition","id":"sud","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}},"search":{"mode":"match"}},` +
	`{"fullUrl":"http://upstream.example/fhir/MedicationRequest/m","resource":{"resourceType":"MedicationRequest","id":"m","subject":{"reference":"Patient/p1"},"contained":[{"resourceType":"Medication","id":"x","code":{"text":"y"}}],"reasonReference":[{"reference":"Condition/sud"}]},"search":{"mode":"match"}},` +
	`{"resource":{"resourceType":"Observation","id":"o","c\u006fntained":[{"resourceType":"Patient","id":"q"}],"subject":{"reference":"Patient/p1"},"valueQuantity":{"value":60.40e-0},"note":[{"text":"caf\u00e9 \"d\u00e9j\u00e0\" 日本"}]},"search":{"mode":"include"}},` +
	`{"resource":{"resourceType":"Parameters","parameter":[{"name":"a","resource":{"resourceType":"Observation","id":"pa","subject":{"reference":"Patient/p1"}}}]}},` +
	`{"resource":{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Observation","id":"n1","subject":{"reference":"Patient/p1"}}}]}},` +
	`{"request":{"method":"DELETE","url":"Observation/gone"},"response":{"status":"410 Gone"}}` +
	`]}`

func TestCheckedWalkSameAsValidating(t *testing.T) {
	t.Parallel()
	s := checkedServer(t)
	big := synth.SearchsetBundle(synth.BenchResources(60, 1), "http://upstream.example/fhir")
	var indented bytes.Buffer
	if err := json.Indent(&indented, []byte(checkedBundle), " ", "\t"); err != nil {
		t.Fatal(err)
	}
	bpDeep := func(n int) string { // an Observation nesting n deep below its own object
		return `{"resourceType":"Observation","id":"d","x":` + strings.Repeat(`[`, n-1) + strings.Repeat(`]`, n-1) + `}`
	}
	entry := func(res string) string {
		return `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":` + res + `}]}`
	}
	for name, tc := range map[string]struct {
		body   string
		accept bool
	}{
		"bundle":                         {checkedBundle, true},
		"bundle, indented":               {"\n " + indented.String() + "\r\n\t", true},
		"generated searchset":            {string(big), true},
		"single resource":                {" \n" + bpObs + "\n", true},
		"single with contained":          {`{"resourceType":"MedicationRequest","id":"m","contained":[{"resourceType":"Medication","id":"x"},{"resourceType":"Patient","id":"q"}],"subject":{"reference":"Patient/p1"}}`, true},
		"single with contained escaped":  {`{"resourceType":"MedicationRequest","id":"m","cont\u0061ined":[{"resourceType":"Medication","id":"x"}]}`, true},
		"single contained not an array":  {`{"resourceType":"Observation","id":"o","contained":{"resourceType":"Medication"}}`, true},
		"single Parameters escaped":      {`{"resourceType":"P\u0061rameters","parameter":[{"name":"a","resource":{"resourceType":"Observation","id":"pa"}}]}`, true},
		"single Parameters":              {`{"resourceType":"Parameters","parameter":[{"name":"a","resource":{"resourceType":"Observation","id":"pa","subject":{"reference":"Patient/p1"}}},{"name":"b","part":[{"name":"c","resource":{"resourceType":"Condition","id":"pc"}}]}]}`, true},
		"huge numbers":                   {entry(`{"resourceType":"Observation","valueQuantity":{"value":1e999999},"x":123456789012345678901234567890.5}`), true},
		"resource at the depth limit":    {entry(bpDeep(12 - 3)), true},
		"resource past the depth limit":  {entry(bpDeep(12 - 2)), false},
		"single at the depth limit":      {bpDeep(12), true},
		"single past the depth limit":    {bpDeep(13), false},
		"skeleton past the depth limit":  {`{"resourceType":"Bundle","meta":{"a":` + strings.Repeat(`[`, 11) + strings.Repeat(`]`, 11) + `},"entry":[]}`, false},
		"duplicate in an entry":          {strings.Replace(checkedBundle, `"search":{"mode":"match"}},`, `"search":{"mode":"match"},"search":{}},`, 1), false},
		"duplicate resource in an entry": {strings.Replace(checkedBundle, `{"resource":{"resourceType":"Parameters"`, `{"resource":{"resourceType":"Basic"},"resource":{"resourceType":"Parameters"`, 1), false},
		"duplicate at the Bundle":        {strings.Replace(checkedBundle, `"total":6,`, `"total":6,"t\u006ftal":7,`, 1), false},
		"duplicate deep in a resource":   {strings.Replace(checkedBundle, `"code":{"text":"y"}`, `"code":{"text":"y","text":"z"}`, 1), false},
		"duplicate in a contained":       {strings.Replace(checkedBundle, `{"resourceType":"Patient","id":"q"}`, `{"resourceType":"Patient","id":"q","id":"r"}`, 1), false},
		"duplicate in a nested Bundle":   {strings.Replace(checkedBundle, `"id":"n1"`, `"id":"n1","id":"n2"`, 1), false},
		"bad UTF-8 in a resource":        {strings.Replace(checkedBundle, `日本`, "\xe6\x97", 1), false},
		"bad UTF-8 in a fullUrl":         {strings.Replace(checkedBundle, `Condition/sud","resource"`, "Condition/s\xffd\",\"resource\"", 1), false},
		"bad number in the skeleton":     {strings.Replace(checkedBundle, `"total":6`, `"total":06`, 1), false},
		"bad number in a resource":       {strings.Replace(checkedBundle, `60.40e-0`, `60.40e-`, 1), false},
		"control character":              {strings.Replace(checkedBundle, `"y"`, "\"\ty\"", 1), false},
		"data after the body":            {checkedBundle + `{}`, false},
		"resource not an object":         {entry(`["resourceType","Observation"]`), false},
		"resource a string":              {entry(`"Observation"`), false},
		"no resourceType":                {entry(`{"id":"x"}`), false},
		"resourceType not a string":      {entry(`{"resourceType":1}`), false},
		"not a resource":                 {`{"a":1}`, false},
		"empty":                          {``, false},
		"space":                          {` `, false},
	} {
		if got := samePaths(t, s, []byte(tc.body)); got != tc.accept {
			t.Errorf("%s: accepted %v, want %v", name, got, tc.accept)
		}
	}
}

// TestCheckedWalkMutations: every cut and every single-byte change of a
// Bundle is accepted or refused by both paths alike.
func TestCheckedWalkMutations(t *testing.T) {
	t.Parallel()
	s := checkedServer(t)
	body := []byte(checkedBundle)
	accepted := 0
	for n := range len(body) {
		if samePaths(t, s, body[:n]) {
			t.Fatalf("a cut of the Bundle at %d was accepted", n)
		}
	}
	for i := range body {
		for _, c := range []byte{'"', '\\', '{', '}', '[', ']', ',', ':', ' ', '1', 'e', 0xff, 0x01} {
			m := bytes.Clone(body)
			m[i] = c
			if samePaths(t, s, m) {
				accepted++
			}
		}
	}
	if accepted == 0 {
		t.Fatal("no mutation was accepted: the test compares refusals only")
	}
}

// FuzzCheckedWalk: on any body the checked walk and the validating path
// agree (see samePaths).
func FuzzCheckedWalk(f *testing.F) {
	f.Add([]byte(checkedBundle))
	f.Add([]byte(bpObs))
	f.Add([]byte(`{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Observation","a":{"b":1,"b":2}}}]}`))
	s := checkedServer(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		samePaths(t, s, body)
	})
}

// TestCheckedWalkNoFallback: bodies the proxy serves in its tests go the
// checked way, never the validating one (which would cost a second walk).
func TestCheckedWalkNoFallback(t *testing.T) {
	before := checkedFallbacks.Load()
	h := newHarness(t, fhirJSONHandler(200, checkedBundle))
	if resp, body := h.get("/fhir/R4/Observation", tokConsented); resp.StatusCode != 200 || !strings.Contains(body, `"Bundle"`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if n := checkedFallbacks.Load() - before; n != 0 {
		t.Fatalf("%d bodies fell back to the validating path", n)
	}
}
