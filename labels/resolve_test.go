package labels_test

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ds4p/ds4p/labels"
)

// upstream is a FetchFunc over a fixed set of resources by "Type/id",
// recording what it was asked.
type upstream struct {
	mu    sync.Mutex
	byKey map[string]string
	asked [][]string
	err   error
}

func newUpstream(resources ...string) *upstream {
	u := &upstream{byKey: map[string]string{}}
	for _, r := range resources {
		typ := between(r, `"resourceType":"`, `"`)
		id := between(r, `"id":"`, `"`)
		u.byKey[typ+"/"+id] = r
	}
	return u
}

func between(s, from, to string) string {
	_, after, _ := strings.Cut(s, from)
	v, _, _ := strings.Cut(after, to)
	return v
}

func (u *upstream) fetch(ts []labels.Target) ([][]byte, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	var keys []string
	var out [][]byte
	for _, t := range ts {
		keys = append(keys, t.Key())
		if r, ok := u.byKey[t.Key()]; ok {
			out = append(out, []byte(r))
		}
	}
	slices.Sort(keys)
	u.asked = append(u.asked, keys)
	if u.err != nil {
		return nil, u.err
	}
	return out, nil
}

func (u *upstream) askedFor() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	var all []string
	for _, a := range u.asked {
		all = append(all, a...)
	}
	return all
}

const (
	sudReason      = `{"resourceType":"Condition","id":"c1","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`
	plainCondition = `{"resourceType":"Condition","id":"c2","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"J06.9"}]},"evidence":[{"detail":[{"reference":"Observation/o1"}]}]}`
	sudObservation = `{"resourceType":"Observation","id":"o1","code":{"coding":[{"system":"http://loinc.org","code":"3879-2"}]},"valueCodeableConcept":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`
	part2Encounter = `{"resourceType":"Encounter","id":"e1","serviceProvider":{"reference":"Organization/p2"}}`
)

func order(reason string) string {
	return `{"resourceType":"MedicationRequest","id":"mr","reasonReference":[{"reference":"` + reason + `"}]}`
}

// labelResolving labels one batch of resources through a Batch, resolving
// unknown targets with u.
func labelResolving(t *testing.T, l *labels.Labeller, u *upstream, resources ...string) []labels.Result {
	t.Helper()
	b := l.NewBatch()
	out := make([]labels.Result, len(resources))
	for k, r := range resources {
		if err := b.AddValid([]byte(r), &out[k]); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Resolve(u.fetch); err != nil {
		t.Fatal(err)
	}
	b.Finish()
	return out
}

func TestResolveFetchesUnknownTargets(t *testing.T) {
	t.Parallel()
	// The control: without Resolve, an order whose reason was never seen
	// is ordinary.
	if r, err := part2Labeller(t, 100).Label([]byte(order("Condition/c1"))); err != nil || r.Labels.Has(labels.SUD) {
		t.Fatalf("without the target the order is %v (%v); the test shows nothing", r.Labels, err)
	}
	l := part2Labeller(t, 100)
	u := newUpstream(sudReason)
	got := labelResolving(t, l, u, order("Condition/c1"))
	if !got[0].Labels.Has(labels.SUD) {
		t.Fatalf("order labels %v, want SUD from its fetched reason", got[0].Labels)
	}
	if len(got) != 1 {
		t.Fatalf("%d results, want the batch's own only", len(got))
	}
	// The next batch inherits from the cache: nothing is fetched.
	got = labelResolving(t, l, u, order("Condition/c1"))
	if !got[0].Labels.Has(labels.SUD) || len(u.askedFor()) != 1 {
		t.Fatalf("second batch: labels %v, asked %v", got[0].Labels, u.askedFor())
	}
}

// A target named by a spelling a server may resolve is read, by its
// Type/id, with the reference's white space removed (an absolute URL with
// a space before it would name no server).
func TestResolveFetchesOddlySpelledTargets(t *testing.T) {
	t.Parallel()
	for _, ref := range []string{" https://ehr.example.org/fhir/Condition/c1/ ", "Condition/%631?_format=json", "Condition//c1/_history#x"} {
		t.Run(ref, func(t *testing.T) {
			t.Parallel()
			l := part2Labeller(t, 100)
			var asked []labels.Target
			fetch := func(ts []labels.Target) ([][]byte, error) {
				asked = append(asked, ts...)
				return [][]byte{[]byte(sudReason)}, nil
			}
			b := l.NewBatch()
			var r labels.Result
			if err := b.AddValid([]byte(order(ref)), &r); err != nil {
				t.Fatal(err)
			}
			if err := b.Resolve(fetch); err != nil {
				t.Fatal(err)
			}
			b.Finish()
			if !r.Labels.Has(labels.SUD) {
				t.Errorf("order labels %v, want SUD from its fetched reason", r.Labels)
			}
			if len(asked) != 1 || asked[0].Key() != "Condition/c1" || asked[0].Ref != strings.TrimSpace(ref) {
				t.Errorf("asked %+v, want Condition/c1 as %q", asked, strings.TrimSpace(ref))
			}
		})
	}
}

func TestResolveFollowsChains(t *testing.T) {
	t.Parallel()
	l := part2Labeller(t, 100)
	u := newUpstream(plainCondition, sudObservation)
	got := labelResolving(t, l, u, order("Condition/c2"))
	if !got[0].Labels.Has(labels.SUD) {
		t.Fatalf("order labels %v, want SUD through Condition/c2's evidence", got[0].Labels)
	}
	if want := [][]string{{"Condition/c2"}, {"Observation/o1"}}; !slices.EqualFunc(u.asked, want, slices.Equal) {
		t.Fatalf("asked %v, want %v", u.asked, want)
	}
}

func TestResolveContextTargetPart2(t *testing.T) {
	t.Parallel()
	l := part2Labeller(t, 100)
	u := newUpstream(part2Encounter)
	obs := `{"resourceType":"Observation","id":"bp","code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},"encounter":{"reference":"Encounter/e1"}}`
	got := labelResolving(t, l, u, obs)
	if !got[0].Labels.Has(labels.Part2Policy) {
		t.Fatalf("observation labels %v, want the Part 2 labels of its fetched encounter", got[0].Labels)
	}
}

func TestResolveRemembersOrdinaryAndMissing(t *testing.T) {
	t.Parallel()
	l := part2Labeller(t, 100)
	u := newUpstream(`{"resourceType":"Condition","id":"flu","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"J10.1"}]}}`)
	for range 3 {
		got := labelResolving(t, l, u, order("Condition/flu"), `{"resourceType":"Observation","id":"x","focus":[{"reference":"Condition/gone"}]}`)
		if got[0].Labels.Has(labels.SUD) || got[1].Labels.Has(labels.SUD) {
			t.Fatalf("labels %v %v, want ordinary", got[0].Labels, got[1].Labels)
		}
	}
	if want := []string{"Condition/flu", "Condition/gone"}; !slices.Equal(u.askedFor(), want) {
		t.Fatalf("asked %v, want each once: %v", u.askedFor(), want)
	}
	// A write through the proxy makes it fetched again.
	l.Forget("Condition", "flu")
	labelResolving(t, l, u, order("Condition/flu"))
	if n := len(u.askedFor()); n != 3 {
		t.Fatalf("after Forget asked %v, want Condition/flu again", u.askedFor())
	}
}

func TestResolveKnownTTL(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), CacheSize: 100, KnownTTL: -1})
	if err != nil {
		t.Fatal(err)
	}
	u := newUpstream()
	for range 2 {
		labelResolving(t, l, u, order("Condition/flu"))
	}
	if n := len(u.askedFor()); n != 2 {
		t.Fatalf("asked %v, want Condition/flu every time with a negative TTL", u.askedFor())
	}
	c := labels.NewCache(10)
	c.SetKnownTTL(time.Hour)
	if c.Len() != 0 {
		t.Fatal("new cache not empty")
	}
}

func TestResolveLeavesKnownTargetsAlone(t *testing.T) {
	t.Parallel()
	l := part2Labeller(t, 100)
	u := newUpstream(sudReason)
	// The target in the same batch, a contained reference, a search URL and
	// a subject (not propagating) are never asked for; nor is List.entry
	// outside a List... but inside a List it is.
	got := labelResolving(t, l, u,
		order("Condition/c1"), sudReason,
		order("#contained"),
		`{"resourceType":"Observation","id":"s","subject":{"reference":"Patient/p"},"focus":[{"reference":"Condition?code=x"}]}`,
	)
	if !got[0].Labels.Has(labels.SUD) {
		t.Fatalf("labels %v", got[0].Labels)
	}
	if len(u.asked) != 0 {
		t.Fatalf("asked %v, want nothing", u.asked)
	}
	labelResolving(t, l, u, `{"resourceType":"List","id":"l","entry":[{"item":{"reference":"Condition/listed"}}]}`)
	if want := []string{"Condition/listed"}; !slices.Equal(u.askedFor(), want) {
		t.Fatalf("asked %v, want %v", u.askedFor(), want)
	}
}

func TestResolveErrorAndBound(t *testing.T) {
	t.Parallel()
	l := part2Labeller(t, 100)
	u := newUpstream()
	u.err = errors.New("upstream down")
	b := l.NewBatch()
	var r labels.Result
	if err := b.AddValid([]byte(order("Condition/c1")), &r); err != nil {
		t.Fatal(err)
	}
	if err := b.Resolve(u.fetch); !errors.Is(err, u.err) {
		t.Fatalf("Resolve: %v, want the fetch error", err)
	}
	// A failed fetch teaches the cache nothing: the next batch asks again.
	u.err = nil
	labelResolving(t, l, u, order("Condition/c1"))
	if n := len(u.asked); n != 2 {
		t.Fatalf("asked %v", u.asked)
	}

	var sb strings.Builder
	sb.WriteString(`{"resourceType":"List","id":"big","entry":[`)
	for i := range labels.MaxResolved + 1 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"item":{"reference":"Condition/n` + strconv.Itoa(i) + `"}}`)
	}
	sb.WriteString(`]}`)
	b = l.NewBatch()
	if err := b.AddValid([]byte(sb.String()), &r); err != nil {
		t.Fatal(err)
	}
	if err := b.Resolve(newUpstream().fetch); err == nil || !strings.Contains(err.Error(), "unknown to the label cache") {
		t.Fatalf("Resolve of %d unknown targets: %v, want refused", labels.MaxResolved+1, err)
	}
}

func TestLabelAllResolving(t *testing.T) {
	t.Parallel()
	l := part2Labeller(t, 100)
	u := newUpstream(sudReason)
	got, err := l.LabelAllResolving([][]byte{[]byte(order("Condition/c1"))}, true, u.fetch)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[0].Labels.Has(labels.SUD) {
		t.Fatalf("got %d results, labels %v", len(got), got[0].Labels)
	}
}

// A chain of references longer than labels travel, into resources the
// cache does not know, cannot be labelled: Resolve refuses it rather than
// label its start as if the far end were ordinary (QA: 9 and 12 hops were
// disclosed on a cold cache, withheld once a middle link was cached).
func TestResolveRefusesChainsPastTheDepth(t *testing.T) {
	t.Parallel()
	var chain []string
	for i := range 10 {
		chain = append(chain, `{"resourceType":"Observation","id":"h`+strconv.Itoa(i)+`","derivedFrom":[{"reference":"Observation/h`+strconv.Itoa(i+1)+`"}]}`)
	}
	u := newUpstream(chain[1:]...)
	b := part2Labeller(t, 100).NewBatch()
	var r labels.Result
	if err := b.AddValid([]byte(chain[0]), &r); err != nil {
		t.Fatal(err)
	}
	if err := b.Resolve(u.fetch); err == nil || !strings.Contains(err.Error(), "deep") {
		t.Fatalf("Resolve of a 10-hop chain: %v", err)
	}
	// Eight hops resolve: h0 -> ... -> h8, which refers to nothing.
	u8 := newUpstream(append(append([]string(nil), chain[1:8]...), `{"resourceType":"Observation","id":"h8"}`)...)
	b = part2Labeller(t, 100).NewBatch()
	if err := b.AddValid([]byte(chain[0]), &r); err != nil {
		t.Fatal(err)
	}
	if err := b.Resolve(u8.fetch); err != nil {
		t.Fatalf("Resolve of an 8-hop chain: %v", err)
	}
}

// A write forgets every target known as ordinary, since one may have been
// ordinary only through the written resource (QA: top -derivedFrom-> mid
// -focus-> the written Condition; mid stayed known as ordinary).
func TestForgetClearsIndirectKnowledge(t *testing.T) {
	t.Parallel()
	l := part2Labeller(t, 100)
	mid := `{"resourceType":"Observation","id":"mid","focus":[{"reference":"Condition/flip"}]}`
	flip := `{"resourceType":"Condition","id":"flip","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"J10.1"}]}}`
	top := `{"resourceType":"Observation","id":"top","derivedFrom":[{"reference":"Observation/mid"}]}`
	u := newUpstream(mid, flip)
	if got := labelResolving(t, l, u, top); got[0].Labels.Has(labels.SUD) {
		t.Fatalf("ordinary chain labelled %v", got[0].Labels)
	}
	u.mu.Lock()
	u.byKey["Condition/flip"] = strings.Replace(flip, "J10.1", "F11.20", 1)
	u.mu.Unlock()
	l.Forget("Condition", "flip")
	if got := labelResolving(t, l, u, top); !got[0].Labels.Has(labels.SUD) {
		t.Fatalf("after the write the top of the chain is %v, want SUD", got[0].Labels)
	}
}

// A write forgotten while a batch was reading its targets keeps the batch
// from noting what it read as known: it may be the version before the
// write.
func TestWriteDuringResolveIsNotOverwrittenByOldReads(t *testing.T) {
	t.Parallel()
	l := part2Labeller(t, 100)
	u := newUpstream(`{"resourceType":"Condition","id":"flu","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"J10.1"}]}}`)
	racing := func(ts []labels.Target) ([][]byte, error) {
		out, err := u.fetch(ts)
		l.Forget("Condition", "flu") // the write lands after the read
		return out, err
	}
	b := l.NewBatch()
	var r labels.Result
	if err := b.AddValid([]byte(order("Condition/flu")), &r); err != nil {
		t.Fatal(err)
	}
	if err := b.Resolve(racing); err != nil {
		t.Fatal(err)
	}
	b.Finish()
	labelResolving(t, l, u, order("Condition/flu"))
	if n := len(u.askedFor()); n != 2 {
		t.Fatalf("asked %v: the read before the write was kept as known", u.askedFor())
	}
}
