package proxy

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ds4p/ds4p/labels"
)

// dirSite is a fake upstream holding a directory of generations of
// entries, made up from their ids: a searchset of Observations
// (Observation?_tag=G, n of them) performed by roles r-G-i at unit
// u-G-i (partOf hospital h-G-(i%5)) and site l-G-i (managed by the
// unit); h-G-0 is partOf the Part 2 program p2, so every fifth
// Observation is the program's record. It answers reads, a deleted
// entry's history and Type?_id= searches, and counts them. mode makes its
// searches misbehave.
type dirSite struct {
	n     int
	mode  string // "", "refuse", "ignore-id", "extra", "next", "subsetted", "twice", "include", "big"
	gone  bool   // h-G-0 deleted (410), its last version in its history
	lost  bool   // r-G-1 never existed (404)
	delay time.Duration

	mu       sync.Mutex
	reads    int
	searches int
}

func (s *dirSite) counts() (reads, searches int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reads, s.searches
}

// resource is the entry typ/id of the site, "" for none.
func (s *dirSite) resource(typ, id string) string {
	parts := strings.Split(id, "-")
	if typ == "Organization" && id == "p2" {
		return `{"resourceType":"Organization","id":"p2","name":"Zeta House"}`
	}
	if len(parts) != 3 {
		return ""
	}
	g, i := parts[1], parts[2]
	k, err := strconv.Atoi(i)
	if err != nil || k >= s.n {
		return ""
	}
	head := `{"resourceType":"` + typ + `","id":"` + id + `","meta":{"versionId":"1"}`
	switch typ + " " + parts[0] {
	case "Observation o":
		return head + `,"status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"blood pressure"},` +
			`"performer":[{"reference":"PractitionerRole/r-` + g + "-" + i + `"}]}`
	case "PractitionerRole r":
		if s.lost && k == 1 {
			return ""
		}
		return head + `,"organization":{"reference":"Organization/u-` + g + "-" + i + `"},"location":[{"reference":"Location/l-` + g + "-" + i + `"}]}`
	case "Organization u":
		return head + `,"name":"Unit ` + i + `","partOf":{"reference":"Organization/h-` + g + "-" + strconv.Itoa(k%5) + `"}}`
	case "Location l":
		return head + `,"name":"Site ` + i + `","managingOrganization":{"reference":"Organization/u-` + g + "-" + i + `"}}`
	case "Organization h":
		if k >= 5 {
			return ""
		}
		if k == 0 {
			return head + `,"name":"Detox","partOf":{"reference":"Organization/p2"}}`
		}
		return head + `,"name":"General ` + i + `"}`
	}
	return ""
}

func (s *dirSite) deleted(typ, id string) bool {
	return s.gone && typ == "Organization" && strings.HasPrefix(id, "h-") && strings.HasSuffix(id, "-0")
}

func (s *dirSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.delay > 0 {
		time.Sleep(s.delay)
	}
	notFound := fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)
	rest, _ := strings.CutPrefix(r.URL.Path, "/fhir/R4/")
	parts := strings.Split(rest, "/")
	q := r.URL.Query()
	switch {
	case len(parts) == 1 && parts[0] == "Observation" && q.Get("_tag") != "":
		var b strings.Builder
		b.WriteString(`{"resourceType":"Bundle","type":"searchset","entry":[`)
		for i := range s.n {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(`{"resource":` + s.resource("Observation", "o-"+q.Get("_tag")+"-"+strconv.Itoa(i)) + `,"search":{"mode":"match"}}`)
		}
		b.WriteString(`]}`)
		fhirJSONHandler(http.StatusOK, b.String())(w, r)
	case len(parts) == 1 && q.Has("_id"):
		s.mu.Lock()
		s.searches++
		s.mu.Unlock()
		s.search(w, r, parts[0], strings.Split(q.Get("_id"), ","))
	case len(parts) == 2:
		s.mu.Lock()
		s.reads++
		s.mu.Unlock()
		if s.deleted(parts[0], parts[1]) {
			fhirJSONHandler(http.StatusGone, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"deleted"}]}`)(w, r)
			return
		}
		if res := s.resource(parts[0], parts[1]); res != "" {
			fhirJSONHandler(http.StatusOK, res)(w, r)
			return
		}
		notFound(w, r)
	case len(parts) == 3 && parts[2] == "_history" && s.deleted(parts[0], parts[1]):
		s.mu.Lock()
		s.reads++
		s.mu.Unlock()
		last := s.gone
		s.gone = false // resource() makes its last version up
		res := s.resource(parts[0], parts[1])
		s.gone = last
		fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"history","entry":[{"request":{"method":"DELETE","url":"x"}},{"resource":`+res+`}]}`)(w, r)
	default:
		notFound(w, r)
	}
}

// search answers typ?_id=ids as s.mode says.
func (s *dirSite) search(w http.ResponseWriter, r *http.Request, typ string, ids []string) {
	if s.mode == "refuse" {
		fhirJSONHandler(http.StatusBadRequest, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-supported"}]}`)(w, r)
		return
	}
	var listed []string
	for _, id := range ids {
		if res := s.resource(typ, id); res != "" && !s.deleted(typ, id) {
			if s.mode == "subsetted" {
				// A summary: partOf, organization and managingOrganization cut.
				res = `{"resourceType":"` + typ + `","id":"` + id + `","meta":{"tag":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationValue","code":"SUBSETTED"}]}}`
			}
			listed = append(listed, res)
		}
	}
	switch s.mode {
	case "ignore-id": // every entry of the type it has, asked or not: another generation's too
		listed = listed[:0]
		if p := strings.Split(ids[0], "-"); len(p) == 3 {
			for _, g := range []string{p[1], "99"} {
				for i := range s.n {
					if res := s.resource(typ, p[0]+"-"+g+"-"+strconv.Itoa(i)); res != "" {
						listed = append(listed, res)
					}
				}
			}
		}
	case "extra": // one asked for nothing
		listed = append(listed, `{"resourceType":"`+typ+`","id":"x9","meta":{"versionId":"1"}}`)
	case "next": // the first one only, and a next page
		listed = listed[:min(1, len(listed))]
	case "twice": // an entry listed twice
		if len(listed) > 0 {
			listed = append(listed, listed[0])
		}
	}
	var b strings.Builder
	b.WriteString(`{"resourceType":"Bundle","type":"searchset",`)
	if s.mode == "big" { // past the limit of 64 KiB (smallBodies), where each entry is not
		b.WriteString(`"id":"` + strings.Repeat("x", 64<<10) + `",`)
	}
	if s.mode == "next" {
		b.WriteString(`"link":[{"relation":"next","url":"` + "http://" + r.Host + r.URL.Path + `?page=2"}],`)
	}
	b.WriteString(`"entry":[`)
	for i, res := range listed {
		if i > 0 {
			b.WriteString(",")
		}
		mode := "match"
		if s.mode == "include" {
			mode = "include"
		}
		b.WriteString(`{"resource":` + res + `,"search":{"mode":"` + mode + `"}}`)
	}
	b.WriteString(`]}`)
	fhirJSONHandler(http.StatusOK, b.String())(w, r)
}

// withProgramCache is withProgram with the label cache at serve's default
// size: a page of 100 records and their directory fits.
func withProgramCache(_ *Options, d *Deps) {
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules(), CacheSize: 100_000,
		Programs: []labels.Program{{Name: "clinic", References: []string{"Organization/p2"}, Identifiers: []string{"http://hl7.org/fhir/sid/us-npi|1847002312"}}}})
	if err != nil {
		panic(err)
	}
	d.Labeller = l
}

// smallBodies limits upstream bodies to 64 KiB (a page of 12 records, or
// one entry, is far below).
func smallBodies(o *Options, _ *Deps) { o.MaxBodyBytes = 64 << 10 }

// checkDirectoryPage asks for generation gen's page as org-b and as the
// consented caller: org-b gets the Observations whose role is at a unit of
// an ordinary hospital, none of the program's (every fifth, performed at a
// unit of h-gen-0, partOf p2); the consented caller gets all, the program's
// labelled 42CFRPart2.
func checkDirectoryPage(t *testing.T, h *harness, s *dirSite, gen string) {
	t.Helper()
	resp, body := h.get("/fhir/Observation?_tag="+gen, tokOther)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("org-b, gen %s: %d %s", gen, resp.StatusCode, body)
	}
	for i := range s.n {
		id := `"o-` + gen + "-" + strconv.Itoa(i) + `"`
		if got, want := strings.Contains(body, id), i%5 != 0; got != want {
			t.Errorf("org-b, gen %s: %s listed %v, want %v", gen, id, got, want)
		}
	}
	resp, body = h.get("/fhir/Observation?_tag="+gen, tokConsented)
	if want := (s.n + 4) / 5; resp.StatusCode != http.StatusOK || strings.Count(body, `"code":"42CFRPart2"`) < want {
		t.Errorf("consented, gen %s: %d, %d marked 42CFRPart2, want 200 and %d", gen, resp.StatusCode, strings.Count(body, `"code":"42CFRPart2"`), want)
	}
}

// TestDirectoryParentsReadBySearchQA43B (QA round 43, helper B; issue 8):
// since beb1940, on a site with a Part 2 program, a page of 100
// Observations performed by 100 roles, each at its own unit and site, read
// every role, unit, site and hospital one GET at a time: 306 upstream
// requests before the page could be labelled. The targets of one type are
// now asked for in Type?_id= searches of at most 50: a handful of requests,
// with the same answer; a warm cache reads nothing.
func TestDirectoryParentsReadBySearchQA43B(t *testing.T) {
	t.Parallel()
	s := &dirSite{n: 100}
	h := newHarness(t, s.ServeHTTP, withProgramCache)
	resp, body := h.get("/fhir/Observation?_tag=1", tokOther)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("org-b: %d %s", resp.StatusCode, body)
	}
	reads, searches := s.counts()
	t.Logf("cold page of %d: %d reads, %d searches", s.n, reads, searches)
	if reads+searches > 12 {
		t.Errorf("cold page of %d records: %d reads and %d searches upstream, want at most 12 requests", s.n, reads, searches)
	}
	checkDirectoryPage(t, h, s, "1")
	if r2, s2 := s.counts(); r2 != reads || s2 != searches {
		t.Errorf("warm page: %d more reads and %d more searches, want none", r2-reads, s2-searches)
	}
}

// TestDirectoryParentsSearchFallsBackQA43B: a server whose Type?_id=
// search is refused, ignores _id, lists an entry not asked, lists one twice
// or as an include, pages, answers summaries, or answers past the size
// limit leaves the targets to reads of their own: the program's records stay the program's. A deleted
// hospital (410) is the program's still (its history read), as a GET
// found it before; a role that never existed passes nothing on.
func TestDirectoryParentsSearchFallsBackQA43B(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"", "refuse", "ignore-id", "extra", "next", "subsetted", "twice", "include", "big"} {
		for _, gone := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/gone=%v", mode, gone), func(t *testing.T) {
				t.Parallel()
				s := &dirSite{n: 12, mode: mode, gone: gone}
				h := newHarness(t, s.ServeHTTP, withProgramCache, smallBodies)
				checkDirectoryPage(t, h, s, "3")
				// An answer not relied on (or listing summaries, or one entry
				// a page) leaves the targets to reads: the 12 roles at least.
				reads, _ := s.counts()
				if distrusted := mode != ""; distrusted != (reads >= s.n) {
					t.Errorf("%d reads; want the targets read on their own: %v", reads, distrusted)
				}
			})
		}
	}
	t.Run("lost role", func(t *testing.T) {
		t.Parallel()
		s := &dirSite{n: 12, lost: true}
		h := newHarness(t, s.ServeHTTP, withProgramCache)
		resp, body := h.get("/fhir/Observation?_tag=4", tokOther)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"o-4-1"`) || strings.Contains(body, `"o-4-5"`) {
			t.Errorf("org-b with r-4-1 missing: %d %s, want o-4-1 (nothing passed on), not o-4-5", resp.StatusCode, body)
		}
	})
}

// BenchmarkDirectoryParentsPage measures a page of 100 Observations
// performed by 100 roles at their own units and sites (the dirSite) as
// org-b: cold (every generation new to the label cache) and warm (one
// generation again), with the upstream answering at once or after 2 ms.
// It reports the upstream requests per page.
func BenchmarkDirectoryParentsPage(b *testing.B) {
	for _, delay := range []time.Duration{0, 2 * time.Millisecond} {
		for _, warm := range []bool{false, true} {
			name := fmt.Sprintf("cold/delay=%v", delay)
			if warm {
				name = fmt.Sprintf("warm/delay=%v", delay)
			}
			b.Run(name, func(b *testing.B) {
				s := &dirSite{n: 100, delay: delay}
				h := newHarness(b, s.ServeHTTP, withProgramCache)
				var gen atomic.Int64
				page := func() {
					g := "0"
					if !warm {
						g = strconv.FormatInt(gen.Add(1), 10)
					}
					resp, body := h.get("/fhir/Observation?_tag="+url.QueryEscape(g), tokOther)
					if resp.StatusCode != http.StatusOK {
						b.Fatalf("%d %s", resp.StatusCode, body)
					}
				}
				if warm {
					page()
				}
				r0, s0 := s.counts()
				b.ResetTimer()
				for range b.N {
					page()
				}
				b.StopTimer()
				r1, s1 := s.counts()
				b.ReportMetric(float64(r1-r0+s1-s0)/float64(b.N), "upstream/op")
			})
		}
	}
}
