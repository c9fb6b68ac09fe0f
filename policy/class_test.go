package policy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
)

// The decision-class guarantee: a decision depends only on the decision
// class (item type, labels, source) and the request context (caller,
// request, patient, the patient's consents). Nothing per resource reaches
// the policy, which is what lets the proxy evaluate once per class and the
// engine reuse a decision across requests.

// TestItemCarriesOnlyTheClass guards the guarantee at the type level: a new
// per-resource field on Item (an id, a code, a date) would split classes and
// must come with a change to the proxy's class key and the engine's cache
// key. Facts (codes, reference, clinical date) are such fields: the proxy
// passes them only for patients whose consents name codes, data or a data
// period, and then keys its classes and the engine its cache on them.
func TestItemCarriesOnlyTheClass(t *testing.T) {
	t.Parallel()
	var fields []string
	typ := reflect.TypeOf(policy.Item{})
	for i := range typ.NumField() {
		fields = append(fields, typ.Field(i).Name)
	}
	if !reflect.DeepEqual(fields, []string{"Type", "Labels", "Source", "Facts"}) {
		t.Fatalf("policy.Item fields %v: update the decision class (proxy classKey, Input.cacheKey) and this test", fields)
	}
}

// TestCachedDecisionsEqualFreshOnes decides random inputs with a caching
// engine, at random times around consent period bounds, and compares every
// answer with an engine that caches nothing.
func TestCachedDecisionsEqualFreshOnes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cached := newEngine(t)
	fresh := newEngine(t, policy.WithDecisionCache(0))
	rng := rand.New(rand.NewPCG(5, 8))
	for i := range 1200 {
		in := randomInput(rng)
		want, err := fresh.Decide(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := cached.Decide(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			a, _ := json.Marshal(in)
			t.Fatalf("case %d: cached %+v, fresh %+v\ninput %s", i, got, want, a)
		}
	}
}

// TestSameClassSameDecision: items that differ in nothing the input carries
// get one decision; the engine does not see which resource it decides.
func TestSameClassSameDecision(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eng := newEngine(t, policy.WithDecisionCache(0))
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		in := randomInput(rng)
		a, err := eng.Decide(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		b, err := eng.Decide(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("two evaluations of one input differ: %+v, %+v", a, b)
		}
	}
}

func TestConsentVersionChangeInvalidatesCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eng := newEngine(t)
	in := sudInput("Organization/org-a", "TREAT")
	in.Consents = []any{tpoConsent("1", "active")}
	in.ConsentKey = policy.ConsentKey([]policy.ConsentVersion{{ID: "c1", Version: "1"}})
	if d, _ := eng.Decide(ctx, in); !d.Permitted() {
		t.Fatalf("consented: %+v", d)
	}
	in.Consents = []any{tpoConsent("2", "inactive")}
	in.ConsentKey = policy.ConsentKey([]policy.ConsentVersion{{ID: "c1", Version: "2"}})
	if d, _ := eng.Decide(ctx, in); d.Permitted() {
		t.Fatalf("revoked consent still permits: %+v", d)
	}
}

func TestConsentExpiryEndsCachedPermit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eng := newEngine(t)
	in := sudInput("Organization/org-a", "TREAT")
	c := tpoConsent("1", "active")
	c["end_ns"] = now + 1000
	in.Consents = []any{c}
	in.ConsentKey = policy.ConsentKey([]policy.ConsentVersion{{ID: "c1", Version: "1"}})
	if d, _ := eng.Decide(ctx, in); !d.Permitted() {
		t.Fatalf("before expiry: %+v", d)
	}
	in.Request.TimeNS = now + 1000
	if d, _ := eng.Decide(ctx, in); d.Permitted() {
		t.Fatalf("cached permit outlived the consent: %+v", d)
	}
}

func TestReloadInvalidatesCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fsys := copyFS(t, rego.FS())
	eng, err := policy.New(ctx, fsys)
	if err != nil {
		t.Fatal(err)
	}
	in := sudInput("Organization/org-b", "TREAT")
	in.Item.Labels = []string{act + "PSY"}
	in.ConsentKey = policy.ConsentKey(nil)
	if d, _ := eng.Decide(ctx, in); !d.Permitted() {
		t.Fatalf("MH for treatment: %+v", d)
	}
	changed := copyFS(t, fsys)
	changed["ds4p/config/state_law/data.json"] = &fstest.MapFile{Data: replaceOnce(t,
		changed["ds4p/config/state_law/data.json"].Data,
		`"law": "State mental health confidentiality laws: disclosure for treatment, otherwise with consent",
      "without_consent": ["TREAT", "ETREAT"]`,
		`"law": "State mental health confidentiality laws: disclosure for treatment, otherwise with consent",
      "without_consent": []`)}
	if err := eng.Load(ctx, changed); err != nil {
		t.Fatal(err)
	}
	if d, _ := eng.Decide(ctx, in); d.Permitted() {
		t.Fatalf("decision cached across a policy reload: %+v", d)
	}
}

const (
	act = "http://terminology.hl7.org/CodeSystem/v3-ActCode|"
	now = int64(1767225600000000000)
)

func sudInput(org, purpose string) policy.Input {
	return policy.Input{
		Caller:  policy.Caller{Subject: "u", Org: org, OrgIdentifiers: []string{}, Scopes: []string{}, Purposes: []string{purpose}},
		Request: policy.Request{Interaction: "search", Type: "Condition", TimeNS: now},
		Patient: "Patient/p1",
		Item:    policy.Item{Type: "Condition", Labels: []string{act + "SUD"}},
	}
}

func cond(x map[string]any) map[string]any {
	c := map[string]any{
		"actors": []any{}, "roles": []any{}, "purposes": []any{}, "labels": []any{}, "classes": []any{},
		"codes": []any{}, "actions": []any{}, "data": []any{},
		"start_ns": 0, "end_ns": 0, "data_start_ns": 0, "data_end_ns": 0,
	}
	for k, v := range x {
		c[k] = v
	}
	return c
}

func tpoConsent(version, status string) map[string]any {
	return map[string]any{
		"id": "c1", "version": version, "status": status, "patient": "Patient/p1",
		"policies": []any{}, "start_ns": 0, "end_ns": 0,
		"rules": []any{
			map[string]any{"path": "provision", "depth": 0, "type": "deny", "conditions": []any{cond(nil)}},
			map[string]any{"path": "provision.provision[0]", "depth": 1, "type": "permit", "conditions": []any{
				cond(nil), cond(map[string]any{"actors": []any{"Organization/org-a"}, "purposes": []any{"TREAT", "HPAYMT"}}),
			}},
		},
	}
}

// randomInput draws an input from small pools, so that inputs repeat (and
// hit the cache) and times fall on both sides of consent bounds.
func randomInput(rng *rand.Rand) policy.Input {
	orgs := []string{"Organization/org-a", "Organization/org-b", "Organization/hie-member", "Organization/org-3"}
	purposeSets := [][]string{{"TREAT"}, {"HPAYMT"}, {"ETREAT"}, {}, {"HMARKT"}, {"TREAT", "HOPERAT"}, {"MADEUP"}}
	labelSets := [][]string{
		{}, {act + "SUD"}, {act + "SUD", act + "42CFRPart2"}, {act + "PSY"}, {act + "HIV", act + "SUD"},
		{act + "42CFRPart2", act + "PSYTHPN"}, {"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|V"},
	}
	times := []int64{now - 2000, now - 1000, now - 1, now, now + 1, now + 999, now + 1000, now + 5000}
	in := policy.Input{
		Caller: policy.Caller{
			Subject: "u", Org: orgs[rng.IntN(len(orgs))], OrgIdentifiers: []string{}, Scopes: []string{},
			Purposes: purposeSets[rng.IntN(len(purposeSets))],
		},
		Request: policy.Request{Interaction: "search", Type: "Condition", TimeNS: times[rng.IntN(len(times))]},
		Patient: "Patient/p1",
		Item:    policy.Item{Type: []string{"Condition", "Observation"}[rng.IntN(2)], Labels: labelSets[rng.IntN(len(labelSets))]},
	}
	if rng.IntN(4) == 0 {
		// Token times straddle the request times (now ± a few µs): a
		// cached break-the-glass decision must not outlive its token nor
		// precede it.
		sec := now / 1e9
		in.Caller.BreakGlass = &policy.BreakGlass{
			Reason:    "cardiac arrest",
			IssuedAt:  []int64{0, sec - 60, sec}[rng.IntN(3)],
			ExpiresAt: []int64{0, sec, sec + 600, sec + 7200}[rng.IntN(4)],
		}
	}
	var versions []policy.ConsentVersion
	for i := range rng.IntN(3) {
		c := tpoConsent(fmt.Sprint(i), "active")
		c["id"] = fmt.Sprintf("c%d", i)
		c["start_ns"] = []int64{0, now - 1000, now + 1}[i]
		c["end_ns"] = []int64{now + 1000, 0, 0}[i]
		in.Consents = append(in.Consents, c)
		versions = append(versions, policy.ConsentVersion{ID: fmt.Sprintf("c%d", i), Version: fmt.Sprint(i)})
	}
	in.ConsentKey = policy.ConsentKey(versions)
	return in
}

func replaceOnce(t *testing.T, b []byte, old, new string) []byte {
	t.Helper()
	s := string(b)
	if strings.Count(s, old) != 1 {
		t.Fatalf("%q not found once", old)
	}
	return []byte(strings.Replace(s, old, new, 1))
}

// TestCacheKeysOnWhatThePolicyReads: a policy that reads input.patient (or
// the caller's client) gets decisions per patient (per client); the default
// policy reads neither and shares them.
func TestCacheKeysOnWhatThePolicyReads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	vip := fstest.MapFS{"ds4p/main.rego": {Data: []byte(`package ds4p

default decision := {"effect": "permit", "reasons": []}

decision := {"effect": "deny", "reasons": [{"rule": "vip"}]} if input.patient == "Patient/vip"

decision := {"effect": "deny", "reasons": [{"rule": "client"}]} if input.caller.client == "bad-app"
`)}}
	eng, err := policy.New(ctx, vip)
	if err != nil {
		t.Fatal(err)
	}
	in := sudInput("Organization/org-a", "TREAT")
	in.ConsentKey = policy.ConsentKey(nil)
	if d, _ := eng.Decide(ctx, in); !d.Permitted() {
		t.Fatalf("ordinary patient: %+v", d)
	}
	in.Patient = "Patient/vip"
	if d, _ := eng.Decide(ctx, in); d.Permitted() {
		t.Fatal("a decision cached for one patient answered for another the policy treats differently")
	}
	in.Patient = "Patient/p1"
	in.Caller.Client = "bad-app"
	if d, _ := eng.Decide(ctx, in); d.Permitted() {
		t.Fatal("a decision cached for one client answered for another the policy treats differently")
	}

	whole := fstest.MapFS{"ds4p/main.rego": {Data: []byte(`package ds4p

default decision := {"effect": "permit", "reasons": []}

decision := {"effect": "deny", "reasons": []} if {
	some k, v in input
	k == "patient"
	v == "Patient/vip"
}
`)}}
	eng, err = policy.New(ctx, whole)
	if err != nil {
		t.Fatal(err)
	}
	in = sudInput("Organization/org-a", "TREAT")
	in.ConsentKey = policy.ConsentKey(nil)
	_, _ = eng.Decide(ctx, in)
	in.Patient = "Patient/vip"
	if d, _ := eng.Decide(ctx, in); d.Permitted() {
		t.Fatal("a policy iterating over input shared a decision across patients")
	}
}

// TestEnginesOfOneRevisionDecideApart: two engines of one process serving
// the same revision share its compiled form, never a decision. The same
// consent key with other consents (two proxies' stores, each with its own
// "c1" version "1") must be decided by each engine from its own consents.
func TestEnginesOfOneRevisionDecideApart(t *testing.T) {
	ctx := context.Background()
	permitting, err := policy.New(ctx, rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	refusing, err := policy.New(ctx, rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	in := sudInput("Organization/org-a", "TREAT")
	in.ConsentKey = "c1|1"
	in.Consents = []any{tpoConsent("1", "active")}
	if d, err := permitting.Decide(ctx, in); err != nil || d.Effect != "permit" {
		t.Fatalf("under the consent: %+v, %v", d, err)
	}
	in.Consents = []any{tpoConsent("1", "inactive")}
	if d, err := refusing.Decide(ctx, in); err != nil || d.Effect == "permit" {
		t.Fatalf("the second engine, whose consent is inactive, answered %+v, %v", d, err)
	}
}
