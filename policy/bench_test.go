package policy_test

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ds4p/ds4p/internal/heapfloor"
	"github.com/ds4p/ds4p/internal/synth"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
)

// Benchmarks of the policy stage alone. Run:
//
//	go test -run '^$' -bench . -benchmem ./policy/
//
// Inputs are brief, as on the proxy's response path (a deny carries one
// summary reason). BenchmarkDecide measures one evaluation (no decision
// cache; after the first, the response context's fixed verdicts are
// shared, as for the second and later classes of a response, fixed.go);
// BenchmarkBundle the
// policy time of one 1,000-entry Bundle: one evaluation per decision class,
// either every time (cold: a new caller, patient or consent version) or
// answered by the cross-request cache (warm).

func BenchmarkDecide(b *testing.B) {
	cases := map[string]policy.Input{
		"ordinary":        sudInput("Organization/org-b", "TREAT"),
		"sud-consented":   sudInput("Organization/org-a", "TREAT"),
		"part2-consented": sudInput("Organization/org-a", "TREAT"),
		"part2-denied":    sudInput("Organization/org-b", "TREAT"),
	}
	b.Run("floor-trivial-policy", benchFloor)
	in := cases["ordinary"]
	in.Item.Labels = nil
	cases["ordinary"] = in
	for name, in := range cases {
		in.Consents = []any{tpoConsent("1", "active")}
		in.ConsentKey = policy.ConsentKey([]policy.ConsentVersion{{ID: "c1", Version: "1"}})
		in.Brief = true // as the proxy's response path asks
		if name == "part2-consented" || name == "part2-denied" {
			in.Item.Labels = []string{act + "42CFRPart2", act + "SUD", "http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R"}
		}
		b.Run(name, func(b *testing.B) {
			benchDecide(b, in, newEngine(b, policy.WithDecisionCache(0)))
		})
		// The first class of a response (a read): no fixed verdicts yet.
		b.Run(name+"/first-class", func(b *testing.B) {
			benchDecide(b, in, newEngine(b, policy.WithDecisionCache(0), policy.WithFixedVerdicts(false)))
		})
		// The same under the collector setting `ds4p serve` runs with by
		// default (heap_floor_bytes, 32 MiB, internal/heapfloor): at
		// GOGC=100 and no floor, the collector's share of an evaluation is
		// about a third of its CPU (its allocations, ~10 KB, against a
		// live heap this benchmark's fixtures make larger than a server's).
		if name == "part2-consented" {
			b.Run(name+"/first-class/serve-heap-floor", func(b *testing.B) {
				if got := heapfloor.Set(32 << 20); got != 32<<20 {
					b.Fatalf("heap floor %d", got)
				}
				defer heapfloor.Set(0)
				runtime.GC()
				benchDecide(b, in, newEngine(b, policy.WithDecisionCache(0), policy.WithFixedVerdicts(false)))
			})
		}
	}
	// The first class of a response in a context the engine knows (the
	// same caller, patient and consent versions asked before, at another
	// time, the decision cache on): the class itself is new (its item facts differ on every
	// iteration, as a read of another resource of the patient's under a
	// consent that names data), so the decision cache misses and the
	// context's fixed verdicts, kept from an earlier request, are reused.
	b.Run("part2-consented/first-class/known-context", func(b *testing.B) {
		in := cases["part2-consented"]
		in.Consents = []any{tpoConsentForm()}
		in.ConsentKey = policy.ConsentKey([]policy.ConsentVersion{{ID: "c1", Version: "1"}})
		eng := newEngine(b)
		ctx := context.Background()
		var ts int64
		in.Item.Facts = &policy.ItemFacts{Codes: []string{}, TimeNS: &ts}
		decideNew := func() {
			ts++
			in.Request.TimeNS += 1e6 // a later request: its own time
			if d, err := eng.Decide(ctx, in); err != nil || !d.Permitted() {
				b.Fatal(d, err)
			}
		}
		decideNew() // the context is seen
		decideNew() // its fixed verdicts are worked out
		evals := eng.Evaluations()
		b.ReportAllocs()
		cpu := startCPU()
		for b.Loop() {
			decideNew()
		}
		cpu.report(b)
		if got := eng.Evaluations() - evals; got != int64(b.N) {
			b.Fatalf("%d evaluations for %d decisions: the decision cache answered", got, b.N)
		}
	})
	// A read of Part 2 data whose patient's consent versions the engine
	// meets for the first time (a new version, or one its consent cache
	// no longer holds): each decision converts the consent too. form: as
	// the proxy passes it, a policy.ConsentForm built directly; generic:
	// the same struct converted through a JSON round trip, as before.
	for _, form := range []string{"form", "generic"} {
		b.Run("part2-consented/first-class/new-consents/"+form, func(b *testing.B) {
			in := cases["part2-consented"]
			in.Consents = []any{tpoConsentForm()}
			if form == "generic" {
				in.Consents = []any{(*genericConsent)(tpoConsentForm())}
			}
			eng := newEngine(b, policy.WithDecisionCache(0), policy.WithFixedVerdicts(false))
			ctx := context.Background()
			n := 0
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				n++
				in.ConsentKey = policy.ConsentKey([]policy.ConsentVersion{{ID: "c1", Version: strconv.Itoa(n)}})
				if d, err := eng.Decide(ctx, in); err != nil || !d.Permitted() {
					b.Fatal(d, err)
				}
			}
			cpu.report(b)
		})
	}
	b.Run("cached", func(b *testing.B) {
		in := cases["part2-consented"]
		in.Consents = []any{tpoConsent("1", "active")}
		in.ConsentKey = policy.ConsentKey([]policy.ConsentVersion{{ID: "c1", Version: "1"}})
		benchDecide(b, in, newEngine(b))
	})
}

func benchDecide(b *testing.B, in policy.Input, eng *policy.Engine) {
	ctx := context.Background()
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		if _, err := eng.Decide(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
}

// genericConsent is a consent struct the engine converts generically.
type genericConsent policy.Consent

// tpoConsentForm is tpoConsent as a policy.Consent.
func tpoConsentForm() *policy.Consent {
	none := func() policy.ConsentCond {
		return policy.ConsentCond{Actors: []string{}, Roles: []string{}, Purposes: []string{}, Labels: []string{}, Classes: []string{},
			Codes: []string{}, Actions: []string{}, Data: []string{}, DataRefs: []policy.ConsentDataRef{}}
	}
	named := none()
	named.Actors, named.Purposes = []string{"Organization/org-a"}, []string{"TREAT", "HPAYMT"}
	return &policy.Consent{
		ID: "c1", Version: "1", Status: "active", Patient: "Patient/p1", Policies: []string{"42CFRPart2"}, RootTypeFrom: "provision.type",
		Rules: []policy.ConsentRule{
			{Path: "provision", Depth: 0, Type: "deny", Conditions: []policy.ConsentCond{none()}},
			{Path: "provision.provision[0]", Depth: 1, Type: "permit", Conditions: []policy.ConsentCond{none(), named}},
		},
	}
}

// benchClass is one decision class of the benchmark Bundle.
type benchClass struct {
	patient string
	item    policy.Item
	sud     bool // the patient has SUD data, and a consent
}

// benchClasses labels a 1,000-entry Bundle's resources and groups them into
// decision classes as the proxy does (patient, type, label set). With
// onePatient, every resource is taken as the same patient's (a
// $everything-like Bundle); otherwise the generator's ~200 patients stay.
func benchClasses(b testing.TB, onePatient bool) (classes []benchClass, entries int) {
	b.Helper()
	lab := labels.Default()
	seen := map[string]bool{}
	resources := synth.BenchResources(1000, 1)
	sudPatients := map[string]bool{}
	for _, r := range resources {
		for _, t := range r.Topics {
			if t == "SUD" {
				sudPatients[r.Patient] = true
			}
		}
	}
	for _, r := range resources {
		res, err := lab.Label(r.JSON)
		if err != nil {
			b.Fatal(err)
		}
		patient, sud := res.Patient, sudPatients[res.Patient]
		if onePatient {
			patient, sud = "Patient/p1", true
		}
		key := patient + "\x00" + res.Type + "\x00" + res.Labels.Key()
		if seen[key] {
			continue
		}
		seen[key] = true
		ls := make([]string, len(res.Labels))
		for i, l := range res.Labels {
			ls[i] = l.String()
		}
		classes = append(classes, benchClass{patient: patient, item: policy.Item{Type: res.Type, Labels: ls}, sud: sud})
	}
	return classes, len(resources)
}

// BenchmarkBundle decides every class of a 1,000-entry Bundle as the proxy
// does: patients with SUD data have a Part 2 consent (a *policy.Consent, as
// the proxy passes them), the others none.
// cold: every iteration is the first request after a policy reload (each
// distinct decision is evaluated once, repeats within the Bundle hit the
// cache); warm: the decisions are cached from an earlier request;
// serve-heap-floor: cold under the collector setting `ds4p serve` runs with.
func BenchmarkBundle(b *testing.B) {
	for _, one := range []bool{true, false} {
		classes, entries := benchClasses(b, one)
		inputs, evals := bundleInputs(classes)
		for _, v := range []struct{ warm, floor bool }{{false, false}, {true, false}, {false, true}} {
			warm := v.warm
			name := map[bool]string{true: "one-patient", false: "mixed-patients"}[one] + "/" + map[bool]string{false: "cold", true: "warm"}[warm]
			if v.floor {
				// As `ds4p serve` runs by default (see BenchmarkDecide).
				name += "/serve-heap-floor"
			}
			b.Run(name, func(b *testing.B) {
				if v.floor {
					if got := heapfloor.Set(32 << 20); got != 32<<20 {
						b.Fatalf("heap floor %d", got)
					}
					defer heapfloor.Set(0)
				}
				eng := newEngine(b)
				ctx := context.Background()
				round := 0
				b.ReportAllocs()
				before := eng.Evaluations()
				cpu := startCPU()
				for b.Loop() {
					round++
					suffix := ""
					if !warm {
						suffix = fmt.Sprint(round)
					}
					for _, in := range inputs {
						in.ConsentKey += suffix
						if _, err := eng.Decide(ctx, in); err != nil {
							b.Fatal(err)
						}
					}
				}
				cpu.report(b)
				b.ReportMetric(float64(entries), "entries/bundle")
				b.ReportMetric(float64(len(classes)), "classes/bundle")
				b.ReportMetric(float64(evals), "distinct-inputs/bundle")
				b.ReportMetric(float64(eng.Evaluations()-before)/float64(b.N), "evals/bundle")
			})
		}
	}
}

// bundleInputs builds the policy input of each class, and counts the
// distinct inputs among them (the engine evaluates fewer when decisions do
// not depend on the type, see reads.typeBlind).
func bundleInputs(classes []benchClass) ([]policy.Input, int) {
	inputs := make([]policy.Input, len(classes))
	evals := map[string]bool{}
	// One consent value per patient, shared by the patient's classes, as
	// the proxy passes them: its consent store hands out the same pointers
	// while a patient's consents are unchanged, and the engine's caches
	// serve only the values they were built from (consentSet.serves).
	consents := map[string][]any{}
	for i, c := range classes {
		in := sudInput("Organization/org-a", "TREAT")
		in.Patient, in.Item = c.patient, c.item
		in.Brief = true
		in.ConsentKey = policy.ConsentKey(nil)
		if c.sud {
			if consents[c.patient] == nil {
				consent := tpoConsentForm() // as the proxy passes it: a policy.ConsentForm
				consent.ID, consent.Patient = "c-"+c.patient, c.patient
				consents[c.patient] = []any{consent}
			}
			in.Consents = consents[c.patient]
			in.ConsentKey = policy.ConsentKey([]policy.ConsentVersion{{ID: "c-" + c.patient, Version: "1"}})
		}
		inputs[i] = in
		evals[in.ConsentKey+"\x00"+c.item.Type+"\x00"+strings.Join(c.item.Labels, ",")] = true
	}
	return inputs, len(evals)
}

// benchFloor is the engine's own cost: a one-line policy, so that the
// numbers above can be read as OPA overhead plus policy logic.
func benchFloor(b *testing.B) {
	fsys := fstest.MapFS{"ds4p/main.rego": {Data: []byte("package ds4p\n\ndecision := {\"effect\": \"permit\", \"reasons\": []} if input.item.type == \"Condition\"\n")}}
	eng, err := policy.New(context.Background(), fsys, policy.WithDecisionCache(0))
	if err != nil {
		b.Fatal(err)
	}
	in := sudInput("Organization/org-b", "TREAT")
	in.Consents = []any{tpoConsent("1", "active")}
	in.ConsentKey = "k"
	b.ReportAllocs()
	cpu := startCPU()
	for b.Loop() {
		if _, err := eng.Decide(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
}

// BenchmarkConsentIndex: one evaluation (no decision cache; the consents'
// policy form is cached, as in the proxy) for a patient with 20 Part 2
// consents, each naming another organisation, with the per-patient consent
// index (index.go) and with the plain scan of every provision. named: the
// caller is named by one consent (permit); unnamed: by none (deny).
func BenchmarkConsentIndex(b *testing.B) {
	consents := manyConsents(20)
	versions := make([]policy.ConsentVersion, 20)
	for i := range versions {
		versions[i] = policy.ConsentVersion{ID: fmt.Sprintf("m%d", i), Version: "1"}
	}
	for _, caller := range []string{"named", "unnamed"} {
		in := sudInput("Organization/org-7", "TREAT")
		if caller == "unnamed" {
			in.Caller.Org = "Organization/org-x"
		}
		in.Item.Labels = []string{act + "42CFRPart2", act + "SUD"}
		in.Consents = consents
		in.ConsentKey = policy.ConsentKey(versions)
		for _, index := range []bool{true, false} {
			name := caller + "/plain-scan"
			if index {
				name = caller + "/index"
			}
			b.Run(name, func(b *testing.B) {
				eng := newEngine(b, policy.WithDecisionCache(0), policy.WithConsentIndex(index))
				ctx := context.Background()
				want := policy.Deny
				if caller == "named" {
					want = policy.Permit
				}
				b.ReportAllocs()
				cpu := startCPU()
				for b.Loop() {
					d, err := eng.Decide(ctx, in)
					if err != nil || d.Effect != want {
						b.Fatal(d, err)
					}
				}
				cpu.report(b)
			})
		}
	}
}

// TestBenchBundleInputsCached keeps BenchmarkBundle honest: its inputs are
// passed as the proxy passes them, so a Bundle decided again is answered
// from the cache, and the first decides at most one evaluation per
// distinct input. When the benchmark built a consent value per class, the
// engine (rightly) would not serve one class's cached consents to another
// and every pass evaluated every class: its numbers measured that.
func TestBenchBundleInputsCached(t *testing.T) {
	for _, one := range []bool{true, false} {
		classes, _ := benchClasses(t, one)
		inputs, distinct := bundleInputs(classes)
		eng := newEngine(t)
		ctx := context.Background()
		for pass := range 2 {
			before := eng.Evaluations()
			for _, in := range inputs {
				if _, err := eng.Decide(ctx, in); err != nil {
					t.Fatal(err)
				}
			}
			n := eng.Evaluations() - before
			switch {
			case pass == 0 && (n == 0 || n > int64(distinct)):
				t.Errorf("one patient %v: first pass made %d evaluations for %d distinct inputs", one, n, distinct)
			case pass == 1 && n != 0:
				t.Errorf("one patient %v: second pass made %d evaluations, want 0 (cached)", one, n)
			}
		}
	}
}
