package oracle

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/test/medplum"
)

// ciSeeds is the seed budget `go test ./...` runs (about a minute and a
// half under -race on two cores); DS4P_ORACLE_SEEDS runs more: "40" (seeds
// 1..40), "100-140" or "7,19,23".
const ciSeeds = "1-3"

// queriesPerCaller is how many queries each caller of a seed makes
// (DS4P_ORACLE_QUERIES overrides it).
const queriesPerCaller = 16

// maxPages bounds how many next links one scenario follows.
const maxPages = 25

// tally counts what the oracle checked.
type tally struct {
	seeds, scenarios, requests, leaks int
	bytes                             int64
	status                            map[int]int
	kinds                             map[string]int
}

func (a *tally) add(b tally) {
	a.seeds += b.seeds
	a.scenarios += b.scenarios
	a.requests += b.requests
	a.leaks += b.leaks
	a.bytes += b.bytes
	for k, v := range b.status {
		a.status[k] += v
	}
	for k, v := range b.kinds {
		a.kinds[k] += v
	}
}

func newTally() tally { return tally{status: map[int]int{}, kinds: map[string]int{}} }

func (a tally) String() string {
	var st, kd []string
	for k, v := range a.status {
		st = append(st, fmt.Sprintf("%d:%d", k, v))
	}
	for k, v := range a.kinds {
		kd = append(kd, fmt.Sprintf("%s:%d", k, v))
	}
	sort.Strings(st)
	sort.Strings(kd)
	return fmt.Sprintf("%d seeds, %d scenarios, %d requests, %d bytes checked, %d leaks; statuses %s; kinds %s",
		a.seeds, a.scenarios, a.requests, a.bytes, a.leaks, strings.Join(st, " "), strings.Join(kd, " "))
}

// TestOracle runs the seeded scenarios against ds4p in front of Medplum and
// checks every byte of every answer (bodies, headers, followed pages)
// against the leak oracle. A leak fails with the seed and the request.
func TestOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("the leak oracle starts Node and Medplum; skipped in -short mode")
	}
	seeds, err := parseSeeds(envOr("DS4P_ORACLE_SEEDS", ciSeeds))
	if err != nil {
		t.Fatal(err)
	}
	perCaller, err := strconv.Atoi(envOr("DS4P_ORACLE_QUERIES", strconv.Itoa(queriesPerCaller)))
	if err != nil || perCaller < 1 {
		t.Fatalf("DS4P_ORACLE_QUERIES: %q is not a positive number", os.Getenv("DS4P_ORACLE_QUERIES"))
	}
	bin := buildBinary(t)
	total := newTally()
	start := time.Now()
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			total.add(runSeed(t, bin, seed, perCaller))
		})
	}
	t.Logf("oracle: %s; %s", total, time.Since(start).Round(time.Second))
	if total.scenarios == 0 || total.requests < total.scenarios {
		t.Fatalf("the oracle checked nothing: %s", total)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// parseSeeds reads "N" (1..N), "A-B" or "A,B,C".
func parseSeeds(s string) ([]int64, error) {
	var out []int64
	if n, err := strconv.Atoi(s); err == nil {
		for i := 1; i <= n; i++ {
			out = append(out, int64(i))
		}
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.ParseInt(lo, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("DS4P_ORACLE_SEEDS: %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseInt(hi, 10, 64); err != nil || b < a {
				return nil, fmt.Errorf("DS4P_ORACLE_SEEDS: bad range %q", part)
			}
		}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
	}
	return out, nil
}

// scenario is one caller making one query (and following its pages).
type scenario struct {
	n      int
	caller int
	q      query
}

// run holds one seed's running stack.
type run struct {
	t      *testing.T
	w      *world
	o      *Oracle
	up     *medplum.Server
	px     *proxy
	tokens []string
	tally  tally
	// fhirBase is where requests go: the proxy's /fhir, or, to test the
	// oracle itself, the upstream's base.
	fhirBase string
	// leak reports a finding; t.Errorf unless a test of the oracle collects them.
	leak func(format string, args ...any)
}

func runSeed(t *testing.T, bin string, seed int64, perCaller int) tally {
	w := newWorld(seed)
	r := &run{t: t, w: w, o: New(w.ds, w.mixed...), tally: newTally(), leak: t.Errorf}
	r.tally.seeds = 1
	// Odd seeds get an upstream that gzips every answer (ds4p asks for
	// none, so only such a server still exercises its gzip decoding).
	if seed%2 == 1 {
		r.up = medplum.Start(t, medplum.WithGzipAlways())
	} else {
		r.up = medplum.Start(t)
	}
	r.up.Put(t, w.ds.Raw()...)
	r.up.Put(t, w.secondVersions(4)...)
	for _, m := range w.mixed {
		r.up.Put(t, m.JSON)
	}
	// Even seeds stream every Bundle to the caller (rendered twice: checked,
	// then sent, proxy/stream.go); odd seeds render them into a buffer.
	r.px = startProxy(t, bin, r.up.BaseURL, seed%2 == 0)
	r.fhirBase = r.px.base + "/fhir"
	for _, c := range w.consents {
		r.storeConsent(c)
	}
	for _, c := range w.callers {
		r.tokens = append(r.tokens, r.px.token(t, c.tokenArgs()...))
	}
	var all []scenario
	for i := range perCaller {
		for ci, c := range w.callers {
			_ = i
			all = append(all, scenario{n: len(all), caller: ci, q: w.query(c)})
		}
	}
	all = append(all, w.elementScenarios(len(all))...)
	for i, sc := range all {
		if i == len(all)/2 {
			r.revokeOne()
		}
		r.check(sc)
	}
	t.Logf("seed %d: %d patients, %d consents, %d callers: %s", seed, len(w.patients), len(w.consents), len(w.callers), r.tally)
	return r.tally
}

// storeConsent stores c through the consent API, and revokes it when the
// variant says so.
func (r *run) storeConsent(c Consent) {
	a := r.px.do(r.t, http.MethodPut, "/admin/Consent/"+c.ID, r.px.admin, "application/fhir+json", c.JSON())
	if a.Status != http.StatusCreated {
		r.t.Fatalf("storing consent %s (%s): %d %s\n%s", c.ID, c.Variant, a.Status, a.Body, c.JSON())
	}
	if c.Revoked {
		r.revoke(c.ID)
	}
}

func (r *run) revoke(id string) {
	a := r.px.do(r.t, http.MethodPost, "/admin/Consent/"+id+"/$revoke", r.px.admin, "", nil)
	if a.Status != http.StatusOK {
		r.t.Fatalf("revoking consent %s: %d %s", id, a.Status, a.Body)
	}
}

// revokeOne revokes, halfway through the seed, the first grant in force:
// from the next request on, the oracle no longer counts it.
func (r *run) revokeOne() {
	now := time.Now()
	for i, c := range r.w.consents {
		if c.inForce(now) && c.Root.hasPermit() {
			r.revoke(c.ID)
			r.w.consents[i].Revoked = true
			r.w.consents[i].Variant += "+revoked-mid-run"
			return
		}
	}
}

// check makes the scenario's request, follows its next links, and scans
// every answer.
func (r *run) check(sc scenario) {
	c := r.w.callers[sc.caller]
	q := sc.q
	if strings.Contains(q.Path, "{vid}") {
		q.Path = strings.Replace(q.Path, "{vid}", r.versionOf(q.Path), 1)
	}
	patients := q.Patients
	if c.Patient != "" && len(patients) > 0 {
		patients = append(patients[:len(patients):len(patients)], "Patient/"+c.Patient)
	}
	x := r.o.Expect(c, r.w.consents, time.Now(), patients...)
	if q.Selects != "" {
		r.o.ForbidMatchedPatients(x, q.Selects)
	}
	r.tally.scenarios++
	r.tally.kinds[q.Kind]++
	a := r.px.do(r.t, q.Method, r.fhirBase+strings.TrimPrefix(q.Path, "/fhir"), r.tokens[sc.caller], q.ContentType, q.Body)
	r.inspect(sc, q, x, a, 0, q.Method+" "+q.Path)
	if q.Refused && a.Status != http.StatusBadRequest && a.Status != http.StatusForbidden && a.Status != http.StatusNotAcceptable {
		r.t.Errorf("seed %d scenario %d: %s %s answered %d, want 400, 403 or 406 (the proxy refuses it)\n%s",
			r.w.seed, sc.n, q.Method, q.Path, a.Status, r.repro(sc, q, "", nil))
	}
	if (q.Kind == "read" || q.Kind == "vread") && x.Forbidden[refIn(q.Path)].ID != "" {
		r.sameAsMissing(sc, q, a)
	}
	for page := 1; page <= maxPages; page++ {
		next := nextLink(a.Body)
		if next == "" {
			break
		}
		a = r.px.do(r.t, http.MethodGet, next, r.tokens[sc.caller], "", nil)
		r.inspect(sc, q, x, a, page, "GET "+next)
	}
}

// inspect scans one answer: status line, every header, the whole body.
func (r *run) inspect(sc scenario, q query, x *Expectation, a answer, page int, req string) {
	r.tally.requests++
	r.tally.status[a.Status]++
	var hdr strings.Builder
	for k, vs := range a.Header {
		for _, v := range vs {
			hdr.WriteString(k + ": " + v + "\n")
		}
	}
	r.tally.bytes += int64(len(a.Body) + hdr.Len())
	found := append(x.Scan("headers", []byte(hdr.String())), x.Scan("body", a.Body)...)
	if f, ok := totalTells(a.Body); ok {
		found = append(found, f)
	}
	if over := x.Overredacted("body", a.Body); len(over) > 0 {
		r.tally.kinds["overredacted"]++
		found = append(found, over...)
	}
	if cut, whole := x.MixedIn(a.Body); cut+whole > 0 {
		r.tally.kinds["mixed-cut"] += cut
		r.tally.kinds["mixed-whole"] += whole
	}
	if len(found) == 0 {
		return
	}
	r.tally.leaks++
	var b strings.Builder
	for _, f := range found {
		fmt.Fprintf(&b, "  - %s: %q (%s)\n      ...%s...\n", f.Where, f.Pattern, f.Reason, f.Context)
	}
	r.leak("LEAK seed %d scenario %d (%s), page %d, status %d:\n%s%s", r.w.seed, sc.n, q.Kind, page, a.Status, b.String(),
		r.repro(sc, q, req, a.Body))
}

// repro prints what reproduces a finding: the seed, the caller's token,
// the request and the consents in force for the patients concerned.
func (r *run) repro(sc scenario, q query, req string, body []byte) string {
	c := r.w.callers[sc.caller]
	var b strings.Builder
	fmt.Fprintf(&b, "  reproduce: make oracle ORACLE_SEEDS=%d-%d (or DS4P_ORACLE_SEEDS=%d-%d go test -run 'TestOracle$' ./test/oracle)\n", r.w.seed, r.w.seed, r.w.seed, r.w.seed)
	fmt.Fprintf(&b, "  caller: ds4p token %s\n", strings.Join(c.tokenArgs(), " "))
	fmt.Fprintf(&b, "  request: %s %s\n", q.Method, q.Path)
	if q.Body != nil {
		fmt.Fprintf(&b, "  request body (%s): %s\n", q.ContentType, q.Body)
	}
	if req != "" && req != q.Method+" "+q.Path {
		fmt.Fprintf(&b, "  followed to: %s\n", req)
	}
	for _, k := range r.w.consentsOf(q.Patients) {
		fmt.Fprintf(&b, "  consent %s (%s, in force now: %v): %s\n", k.ID, k.Variant, k.inForce(time.Now()), k.JSON())
	}
	if len(body) > 0 {
		fmt.Fprintf(&b, "  answer (first 600 bytes): %.600s\n", body)
	}
	return b.String()
}

// versionOf returns the upstream's current versionId of "/fhir/Type/id/...".
func (r *run) versionOf(path string) string {
	parts := strings.Split(strings.TrimPrefix(path, "/fhir/"), "/")
	resp, err := http.Get(r.up.BaseURL + "/" + parts[0] + "/" + parts[1])
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var res struct {
		Meta struct {
			VersionID string `json:"versionId"`
		} `json:"meta"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || res.Meta.VersionID == "" {
		r.t.Fatalf("versionId of %s: %v", path, err)
	}
	return res.Meta.VersionID
}

// nextLink returns a Bundle's next link, "" when none.
func nextLink(body []byte) string {
	var b struct {
		ResourceType string `json:"resourceType"`
		Link         []struct {
			Relation string `json:"relation"`
			URL      string `json:"url"`
		} `json:"link"`
	}
	if json.Unmarshal(body, &b) != nil || b.ResourceType != "Bundle" {
		return ""
	}
	for _, l := range b.Link {
		if l.Relation == "next" {
			return l.URL
		}
	}
	return ""
}

// refIn returns the "Type/id" of a read or vread path "/fhir/Type/id[/_history/v]".
func refIn(path string) string {
	parts := strings.Split(strings.TrimPrefix(path, "/fhir/"), "/")
	if len(parts) < 2 {
		return ""
	}
	return parts[0] + "/" + parts[1]
}

// sameAsMissing checks that reading a withheld resource answers exactly as
// reading one that does not exist: same status, body and header names. A
// difference would tell that the withheld resource exists.
func (r *run) sameAsMissing(sc scenario, q query, withheld answer) {
	ref := refIn(q.Path)
	missingPath := strings.Replace(q.Path, ref, ref+"-x9", 1)
	m := r.px.do(r.t, q.Method, r.fhirBase+strings.TrimPrefix(missingPath, "/fhir"), r.tokens[sc.caller], "", nil)
	r.tally.requests++
	// A missing resource's answer may name the id asked for; the request
	// said it already.
	missingBody := strings.ReplaceAll(string(m.Body), ref+"-x9", ref)
	if m.Status == withheld.Status && missingBody == string(withheld.Body) && headerNames(m.Header) == headerNames(withheld.Header) {
		return
	}
	r.tally.leaks++
	r.leak("LEAK seed %d scenario %d (%s): a withheld %s answers unlike a missing one (%d %s %q / missing %d %s %q)\n%s",
		r.w.seed, sc.n, q.Kind, ref, withheld.Status, headerNames(withheld.Header), withheld.Body, m.Status, headerNames(m.Header), m.Body,
		r.repro(sc, q, "", nil))
}

// headerNames lists the header names of an answer but those that differ
// between any two answers (date, request id).
func headerNames(h http.Header) string {
	var out []string
	for k := range h {
		if k != "Date" && k != "X-Request-Id" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// totalTells reports a searchset total that counts what the answer does not
// hold: a total must equal the matches on a Bundle with no other page.
func totalTells(body []byte) (Finding, bool) {
	var b struct {
		ResourceType string                      `json:"resourceType"`
		Type         string                      `json:"type"`
		Total        *int                        `json:"total"`
		Link         []struct{ Relation string } `json:"link"`
		Entry        []struct {
			Search *struct{ Mode string } `json:"search"`
		} `json:"entry"`
	}
	if json.Unmarshal(body, &b) != nil || b.ResourceType != "Bundle" || b.Type != "searchset" || b.Total == nil {
		return Finding{}, false
	}
	matches := 0
	for _, e := range b.Entry {
		if e.Search == nil || e.Search.Mode == "" || e.Search.Mode == "match" {
			matches++
		}
	}
	paged := false
	for _, l := range b.Link {
		paged = paged || l.Relation == "next" || l.Relation == "previous" || l.Relation == "prev"
	}
	if *b.Total == matches && !paged {
		return Finding{}, false
	}
	return Finding{Where: "body", Pattern: fmt.Sprintf(`"total":%d`, *b.Total),
		Reason: fmt.Sprintf("Bundle.total with %d matches on the page (paged: %v) counts what the caller was not given", matches, paged)}, true
}
