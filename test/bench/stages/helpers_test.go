// Package stages measures each stage of ds4p's response pipeline on its own,
// through exported APIs only, on generated 1-, 100- and 1,000-entry searchset
// Bundles (internal/synth.BenchBundle): validate/scan (internal/fjson), label
// (labels.Labeller.Label per entry), decide (policy.Engine.Decide once per
// decision class) and ledger append (audit.Ledger, fsynced and grouped). The
// enforce and serialize stages are unexported; package bench measures them
// through the proxy. Nothing here imports package proxy, so these benchmarks
// build while the proxy is being changed. Run:
//
//	go test -run '^$' -bench . -benchmem ./test/bench/stages/
//
// Every benchmark reports MB/s of the upstream body (b.SetBytes) and
// allocs/entry; decide reports evals/response, ledger entries/s.
package stages

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/internal/synth"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
	"go.etcd.io/bbolt"
)

// benchSeed selects the generated population; the same seed gives the
// same bytes on every run.
const benchSeed = 1

// maxJSONDepth is the proxy's default nesting limit.
const maxJSONDepth = 128

// sizes are the entry counts of the benchmark Bundles.
var sizes = []int{1, 100, 1000}

// corpus is one searchset Bundle and where its entry resources are.
type corpus struct {
	name      string
	body      []byte
	resources []span
}

type span struct{ start, end int }

func (c corpus) entries() int { return len(c.resources) }

// newCorpus builds the Bundle of n entries and finds its resources.
func newCorpus(tb testing.TB, n int) corpus {
	tb.Helper()
	body := synth.BenchBundle(n, benchSeed)
	c := corpus{name: "entries=" + strconv.Itoa(n), body: body}
	err := eachResource(body, func(s, e int) error {
		c.resources = append(c.resources, span{s, e})
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	if len(c.resources) != n {
		tb.Fatalf("%s: found %d resources", c.name, len(c.resources))
	}
	return c
}

func corpora(tb testing.TB) []corpus {
	out := make([]corpus, 0, len(sizes))
	for _, n := range sizes {
		out = append(out, newCorpus(tb, n))
	}
	return out
}

// eachResource walks a Bundle in one pass as the proxy's collect does: the
// top-level object, each entry object, and each entry's resource, which is
// skipped once to find its end.
func eachResource(b []byte, fn func(s, e int) error) error {
	_, err := fjson.ObjectScan(b, 0, func(key []byte, v int) (int, error) {
		if !fjson.KeyIs(key, "entry") {
			return fjson.SkipValue(b, v)
		}
		return fjson.ArrayScan(b, v, func(ev int) (int, error) {
			return fjson.ObjectScan(b, ev, func(key []byte, rv int) (int, error) {
				end, err := fjson.SkipValue(b, rv)
				if err != nil || !fjson.KeyIs(key, "resource") {
					return end, err
				}
				return end, fn(rv, end)
			})
		})
	})
	return err
}

// measure times op over one response of body bytes and entries entries and
// reports throughput and allocations per entry.
func measure(b *testing.B, bytes, entries int, op func() error) {
	b.SetBytes(int64(bytes))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	reportAllocsPerEntry(b, after.Mallocs-before.Mallocs, entries)
}

func reportAllocsPerEntry(b *testing.B, mallocs uint64, entries int) {
	if b.N > 0 && entries > 0 {
		b.ReportMetric(float64(mallocs)/float64(b.N)/float64(entries), "allocs/entry")
	}
}

// labelAll labels every entry resource of c.
func labelAll(l *labels.Labeller, c corpus) ([]labels.Result, error) {
	out := make([]labels.Result, len(c.resources))
	for i, sp := range c.resources {
		r, err := l.Label(c.body[sp.start:sp.end])
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

func labelStrings(s labels.Set) []string {
	out := make([]string, len(s))
	for i, l := range s {
		out[i] = l.String()
	}
	return out
}

// classKey is the proxy's decision class: patient, type and label set.
func classKey(r labels.Result) string {
	return r.Patient + "\x00" + r.Type + "\x00" + r.Labels.Key()
}

// benchOrg is the organisation the benchmark consent permits.
const benchOrg = "Organization/bench"

// callers are the two callers of the decide and pipeline benchmarks:
// permissive has a known purpose and is named by pat-0's Part 2 consent, so
// everything is disclosed; restrictive states no purpose of use, so every
// restricted entry is withheld.
var callers = []struct {
	name   string
	caller policy.Caller
}{
	{"permissive", policy.Caller{Subject: "bench", Org: benchOrg, OrgIdentifiers: []string{}, Client: "bench", Scopes: []string{"patient/*.read"}, Purposes: []string{"TREAT"}}},
	{"restrictive", policy.Caller{Subject: "bench", Org: "Organization/other", OrgIdentifiers: []string{}, Client: "bench", Scopes: []string{"patient/*.read"}, Purposes: []string{}}},
}

// part2Consent is pat-0's consent: deny Part 2 data except to benchOrg for
// treatment (the demo's consent).
func part2Consent(patient, org string) []byte {
	return []byte(`{
  "resourceType": "Consent",
  "status": "active",
  "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
  "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
  "patient": {"reference": "` + patient + `"},
  "dateTime": "2026-01-05",
  "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "42CFRPart2"}]},
  "provision": {
    "type": "deny",
    "provision": [{
      "type": "permit",
      "actor": [{
        "role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}]},
        "reference": {"reference": "` + org + `"}
      }],
      "purpose": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT"}]
    }]
  }
}`)
}

// openDB opens a bbolt file in a fresh directory with the wiring's batch
// delay (cmd/ds4p sets 1 ms).
func openDB(tb testing.TB) *bbolt.DB {
	tb.Helper()
	db, err := bbolt.Open(filepath.Join(tb.TempDir(), "ds4p.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	db.MaxBatchDelay = time.Millisecond
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

// openConsents opens a consent store holding pat-0's Part 2 consent.
func openConsents(tb testing.TB, db *bbolt.DB) *consent.Store {
	tb.Helper()
	cs, err := consent.Open(db)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := cs.Put(context.Background(), part2Consent(synth.PatientRef(0), benchOrg)); err != nil {
		tb.Fatal(err)
	}
	return cs
}

// policyConsents reads and normalises a patient's consents as the proxy
// does for each response.
func policyConsents(ctx context.Context, cs *consent.Store, patient string) ([]any, error) {
	if patient == "" {
		return []any{}, nil
	}
	recs, err := cs.ForPatient(ctx, patient)
	if err != nil && !errors.Is(err, consent.ErrNotFound) {
		return nil, err
	}
	out := make([]any, 0, len(recs))
	for _, rec := range recs {
		n, err := consent.Normalize(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

func newEngine(tb testing.TB) *policy.Engine {
	tb.Helper()
	eng, err := policy.New(context.Background(), rego.FS())
	if err != nil {
		tb.Fatal(err)
	}
	return eng
}

// ledgerEntries builds the ledger entries the proxy writes for one response:
// one per patient, every item disclosed.
func ledgerEntries(results []labels.Result, revision string) []audit.Entry {
	byPatient := map[string]int{}
	var out []audit.Entry
	for _, r := range results {
		i, ok := byPatient[r.Patient]
		if !ok {
			i = len(out)
			byPatient[r.Patient] = i
			out = append(out, audit.Entry{
				RequestID: "bench", Caller: audit.Party{Subject: "bench", Org: benchOrg, Client: "bench"},
				Purposes: []string{"TREAT"}, Patient: r.Patient, Interaction: "search",
				Query: "Observation?_count=1000", PolicyRevision: revision,
			})
		}
		out[i].Disclosed = append(out[i].Disclosed, audit.Item{Type: r.Type, ID: r.ID, Version: r.VersionID, Labels: labelStrings(r.Labels)})
	}
	return out
}
