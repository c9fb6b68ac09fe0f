package proxy

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy/authn"
)

// part2Condition is a Part 2 record as a Part 2 program's EHR labels it.
const part2Condition = `{"resourceType":"Condition","id":"p2c","meta":{"versionId":"1","security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"}]},"subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`

func (h *harness) post(path, token, body string) (*http.Response, string) {
	h.t.Helper()
	return h.do(http.MethodPost, path, token, "application/json", body)
}

func decideBody(org, purpose, breakGlass string, consents string, resources ...string) string {
	b := `{"caller":{"subject":"sim","org":"` + org + `","purposes":["` + purpose + `"],"break_glass":"` + breakGlass + `"},` +
		`"time":"2026-03-01T00:00:00Z","resources":[` + strings.Join(resources, ",") + `]`
	if consents != "" {
		b += `,"consents":` + consents
	}
	return b + "}"
}

func TestDecideSimulation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	cases := []struct {
		name, body string
		want       []string // effect per resource
	}{
		{"consented org", decideBody("Organization/org-a", "TREAT", "", "", sudCondition, bpObs, part2Condition), []string{"permit", "permit", "permit"}},
		{"other org", decideBody("Organization/org-b", "TREAT", "", "", sudCondition, bpObs, part2Condition), []string{"deny", "permit", "deny"}},
		{"draft consents replace the stored ones", decideBody("Organization/org-a", "TREAT", "", "[]", sudCondition, bpObs), []string{"deny", "permit"}},
		{"emergency", decideBody("Organization/er", "ETREAT", "cardiac arrest", "", part2Condition), []string{"permit"}},
	}
	for _, c := range cases {
		resp, body := h.post("/admin/decide", tokAdmin, c.body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", c.name, resp.StatusCode, body)
		}
		var got DecideResponse
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Items) != len(c.want) || got.PolicyRevision == "" {
			t.Fatalf("%s: %s", c.name, body)
		}
		for i, it := range got.Items {
			if it.Decision.Effect != c.want[i] || len(it.Decision.Reasons) == 0 {
				t.Errorf("%s: item %d (%s/%s) %+v, want %s", c.name, i, it.Type, it.ID, it.Decision, c.want[i])
			}
		}
	}
	// Each simulation but the one with draft consents read Patient/p1's
	// stored consents, and is recorded (TestSimulationRecordsStoredConsents).
	if n := len(h.ledger.entries); n != 3 {
		t.Fatalf("the simulations wrote %d ledger entries, want 3", n)
	}
	for _, e := range h.ledger.entries {
		if e.Interaction != "simulate" || e.Patient != "Patient/p1" || len(e.Disclosed) != 1 || e.Disclosed[0].Type != "Consent" {
			t.Fatalf("ledger entry of a simulation: %+v", e)
		}
	}
}

func TestDecideSimulationRefusals(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	if resp, _ := h.post("/admin/decide", tokOther, decideBody("o", "TREAT", "", "", bpObs)); resp.StatusCode != 403 {
		t.Errorf("non-admin simulation: %d", resp.StatusCode)
	}
	for name, body := range map[string]string{
		"no resources":  `{"caller":{"org":"o"},"resources":[]}`,
		"unknown field": `{"caller":{"org":"o"},"resources":[` + bpObs + `],"bogus":1}`,
		"bad time":      `{"caller":{"org":"o"},"time":"yesterday","resources":[` + bpObs + `]}`,
		"bad consent":   `{"caller":{"org":"o"},"resources":[` + bpObs + `],"consents":[{"resourceType":"Consent"}]}`,
		// A draft the store would refuse is not simulated as if it worked.
		"draft consent with a mistyped label": `{"caller":{"org":"o"},"resources":[` + bpObs + `],"consents":[{"resourceType":"Consent","status":"active",` +
			`"patient":{"reference":"Patient/p1"},"provision":{"type":"permit","provision":[{"type":"deny",` +
			`"securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"MHX"}]}]}}]}`,
		// The author's own resources: a 400 naming which, not a 502 blaming the FHIR server.
		"a number resource":      `{"caller":{"org":"o"},"resources":[` + bpObs + `,42]}`,
		"no resourceType":        `{"caller":{"org":"o"},"resources":[{"foo":1}]}`,
		"resourceType no string": `{"caller":{"org":"o"},"resources":[{"resourceType":5}]}`,
	} {
		resp, out := h.post("/admin/decide", tokAdmin, body)
		if resp.StatusCode != 400 || !strings.Contains(out, "OperationOutcome") {
			t.Errorf("%s: %d %s", name, resp.StatusCode, out)
		}
		if strings.Contains(name, "mistyped") && !strings.Contains(out, `did you mean \"MH\"`) {
			t.Errorf("%s: %s, want the likely code suggested", name, out)
		}
		if name != "no resources" && strings.Contains(name, "resource") && !strings.Contains(out, "resources[") {
			t.Errorf("%s: %s, want the resource named", name, out)
		}
	}
}

func TestPolicyStatusRoute(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	resp, body := h.get("/admin/policy", tokAdmin)
	var st policy.Status
	if err := json.Unmarshal([]byte(body), &st); resp.StatusCode != 200 || err != nil || st.Revision == "" || st.Rejected != nil {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

// TestPart2DisclosureCarriesNotice: a Part 2 record disclosed under
// consent gets NORDSCLCD and 42CFRPart2, and the 42 CFR 2.32 notice travels
// in a header and, in a searchset, as an outcome entry.
func TestPart2DisclosureCarriesNotice(t *testing.T) {
	t.Parallel()
	var h *harness
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/Condition/p2c") {
			fhirJSONHandler(200, part2Condition)(w, r)
			return
		}
		fhirJSONHandler(200, bundle(h.base(), 2, false, part2Condition, bpObs))(w, r)
	})
	resp, body := h.get("/fhir/Condition?subject=p1", tokConsented)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if !strings.Contains(resp.Header.Get(NoticeHeader), "42 CFR part 2 prohibits") {
		t.Errorf("searchset without the notice header: %v", resp.Header)
	}
	var b struct {
		Total *int
		Entry []struct {
			Resource json.RawMessage
			Search   struct{ Mode string }
		}
	}
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		t.Fatal(err)
	}
	last := b.Entry[len(b.Entry)-1]
	if len(b.Entry) != 3 || last.Search.Mode != "outcome" || !bytes.Contains(last.Resource, []byte("42 CFR part 2 prohibits")) {
		t.Fatalf("searchset without the notice outcome entry: %s", body)
	}
	if b.Total == nil || *b.Total != 2 {
		t.Errorf("total %v, want the 2 matches (outcome entries are not matches)", b.Total)
	}
	if !bytes.Contains(b.Entry[0].Resource, []byte(`"code":"NORDSCLCD"`)) {
		t.Errorf("Part 2 entry without NORDSCLCD: %s", b.Entry[0].Resource)
	}
	if bytes.Contains(b.Entry[1].Resource, []byte("NORDSCLCD")) {
		t.Errorf("ordinary entry got Part 2 obligations: %s", b.Entry[1].Resource)
	}

	resp, body = h.get("/fhir/Condition/p2c", tokConsented)
	if resp.StatusCode != 200 || resp.Header.Get(NoticeHeader) == "" || !strings.Contains(body, "NORDSCLCD") {
		t.Errorf("read: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	resp, body = h.get("/fhir/Condition?subject=p1", tokOther)
	if resp.Header.Get(NoticeHeader) != "" || strings.Contains(body, "outcome") || strings.Contains(body, "p2c") {
		t.Errorf("a response that disclosed no Part 2 record carries the notice: %v %s", resp.Header, body)
	}
}

// breakGlassAuth is a caller in an emergency: ETREAT and a stated reason,
// in a token issued a minute ago that lives lifetime (15 minutes when 0).
type breakGlassAuth struct{ lifetime time.Duration }

func (a breakGlassAuth) Verify(context.Context, string) (authn.Caller, error) {
	lifetime := cmp.Or(a.lifetime, 15*time.Minute)
	iat := time.Now().Add(-time.Minute)
	return authn.Caller{
		Subject: "dr-er", Org: "Organization/er", Purposes: []string{"ETREAT"}, BreakGlass: "unresponsive, suspected overdose",
		Scopes: []string{"user/*.read"}, IssuedAt: iat, Expiry: iat.Add(lifetime),
	}, nil
}

// lockedBuffer is a log sink safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestBreakGlassRecordedInLedger: an emergency disclosure is flagged in the
// ledger with the 42 CFR 2.51(c) record and logged for review (the log
// names neither the patient nor the stated reason).
func TestBreakGlassRecordedInLedger(t *testing.T) {
	t.Parallel()
	logs := &lockedBuffer{}
	h := newHarness(t, fhirJSONHandler(200, part2Condition), func(_ *Options, d *Deps) {
		d.Auth = breakGlassAuth{}
		d.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	})
	resp, body := h.get("/fhir/Condition/p2c", "any")
	if resp.StatusCode != 200 || !strings.Contains(body, "NORDSCLCD") {
		t.Fatalf("break-glass read: %d %s", resp.StatusCode, body)
	}
	if len(h.ledger.entries) != 1 {
		t.Fatalf("ledger: %+v", h.ledger.entries)
	}
	bg := h.ledger.entries[0].BreakGlass
	if bg == nil || bg.Reason != "unresponsive, suspected overdose" || bg.Recipient != "dr-er" || bg.Affiliation != "Organization/er" || bg.DisclosedBy == "" {
		t.Fatalf("ledger break-glass record: %+v", bg)
	}
	out := logs.String()
	if !strings.Contains(out, "break-the-glass disclosure") || !strings.Contains(out, `"caller_org":"Organization/er"`) {
		t.Fatalf("no break-the-glass log line: %s", out)
	}
	if strings.Contains(out, "Patient/p1") || strings.Contains(out, "overdose") {
		t.Fatalf("the break-the-glass log names the patient or the reason: %s", out)
	}
}

// TestBreakGlassNeedsShortLivedToken: the same emergency claim in a token
// that lives longer than policy data allows (1 hour) discloses nothing,
// and nothing is flagged.
func TestBreakGlassNeedsShortLivedToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, part2Condition), func(_ *Options, d *Deps) { d.Auth = breakGlassAuth{lifetime: 12 * time.Hour} })
	resp, body := h.get("/fhir/Condition/p2c", "any")
	if resp.StatusCode != 404 || strings.Contains(body, "F11.20") {
		t.Fatalf("long-lived break-glass token: %d %s", resp.StatusCode, body)
	}
	for _, e := range h.ledger.entries {
		if e.BreakGlass != nil {
			t.Fatalf("flagged without an emergency disclosure: %+v", e)
		}
	}
}

func TestNoBreakGlassFlagWithoutEmergencyDisclosure(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs), func(_ *Options, d *Deps) { d.Auth = breakGlassAuth{} })
	if resp, _ := h.get("/fhir/Observation/bp1", "any"); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if len(h.ledger.entries) != 1 || h.ledger.entries[0].BreakGlass != nil {
		t.Fatalf("ordinary data under an emergency claim was flagged: %+v", h.ledger.entries)
	}
}

// countingDecider counts evaluations and records what the policy saw.
type countingDecider struct {
	Decider
	mu     sync.Mutex
	inputs []policy.Input
}

func (c *countingDecider) Decide(ctx context.Context, in policy.Input) (policy.Decision, error) {
	c.mu.Lock()
	c.inputs = append(c.inputs, in)
	c.mu.Unlock()
	return c.Decider.Decide(ctx, in)
}

// TestOneDecisionPerClass: a Bundle of many resources of few classes gets
// one evaluation per class, and nothing per resource reaches the policy.
func TestOneDecisionPerClass(t *testing.T) {
	t.Parallel()
	var resources []string
	for i := range 50 {
		id := itoa(i)
		resources = append(resources,
			strings.Replace(bpObs, `"id":"bp1"`, `"id":"bp`+id+`"`, 1),
			strings.Replace(sudCondition, `"id":"sud1"`, `"id":"sud`+id+`"`, 1))
	}
	var h *harness
	var counter *countingDecider
	h = newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		fhirJSONHandler(200, bundle(h.base(), -1, false, resources...))(w, r)
	}, func(_ *Options, d *Deps) {
		counter = &countingDecider{Decider: d.Decider}
		d.Decider = counter
	})
	resp, body := h.get("/fhir/Observation?subject=p1", tokOther)
	if resp.StatusCode != 200 || strings.Count(body, `"resourceType":"Observation"`) != 50 || strings.Contains(body, "sud1") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if len(counter.inputs) != 2 {
		t.Fatalf("%d evaluations for 100 resources of 2 classes", len(counter.inputs))
	}
	for _, in := range counter.inputs {
		raw, _ := json.Marshal(in)
		if bytes.Contains(raw, []byte("bp1")) || bytes.Contains(raw, []byte("sud1")) {
			t.Fatalf("a resource id reached the policy: %s", raw)
		}
		if in.ConsentKey == "" {
			t.Fatal("no consent key: the engine cannot cache across requests")
		}
	}
}

// TestDecideSimulationFetchesQuery: a query is read from the upstream
// through the proxy's client and decided like inline resources; the answer
// carries decisions only. What the policy author saw (which patient has
// which labelled data) is in the ledger under their name, not the
// simulated caller's.
func TestDecideSimulationFetchesQuery(t *testing.T) {
	t.Parallel()
	searchset := `{"resourceType":"Bundle","type":"searchset","total":2,"entry":[{"fullUrl":"http://up/Condition/sud1","resource":` + sudCondition +
		`,"search":{"mode":"match"}},{"fullUrl":"http://up/Observation/bp1","resource":` + bpObs + `,"search":{"mode":"match"}}]}`
	h := newHarness(t, fhirJSONHandler(200, searchset))
	body := `{"caller":{"subject":"sim","org":"Organization/org-b","purposes":["TREAT"]},"time":"2026-03-01T00:00:00Z",` +
		`"query":"Condition?patient=Patient/p1&_count=50"}`
	resp, out := h.post("/admin/decide", tokAdmin, body)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
	up := <-h.seen
	if up.URL.Path != "/fhir/R4/Condition" || up.URL.Query().Get("patient") != "Patient/p1" {
		t.Fatalf("upstream got %s?%s", up.URL.Path, up.URL.RawQuery)
	}
	var got DecideResponse
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Items) != 2 || got.Items[0].ID != "sud1" || got.Items[0].Decision.Effect != "deny" ||
		got.Items[1].ID != "bp1" || got.Items[1].Decision.Effect != "permit" {
		t.Fatalf("decisions: %s", out)
	}
	if strings.Contains(out, "Opioid dependence") || strings.Contains(out, "60.4") {
		t.Fatalf("the simulation disclosed resource content: %s", out)
	}
	if n := len(h.ledger.entries); n != 1 {
		t.Fatalf("a simulation of fetched data wrote %d ledger entries, want 1", n)
	}
	e := h.ledger.entries[0]
	if e.Interaction != "simulate" || e.Patient != "Patient/p1" || e.Caller.Org != "Organization/ops" || e.Caller.Subject == "sim" ||
		e.Query != "Condition?patient=Patient/p1&_count=50" || len(e.Disclosed) != 3 || len(e.Withheld) != 0 ||
		e.Disclosed[0].ID != "sud1" || !slices.Contains(e.Disclosed[0].Labels, "http://terminology.hl7.org/CodeSystem/v3-ActCode|SUD") ||
		e.Disclosed[2].Type != "Consent" || e.Disclosed[2].ID != "c1" || len(e.Consents) != 1 ||
		e.Time.Year() == 2026 && e.Time.Month() == 3 && e.Time.Day() == 1 {
		t.Fatalf("ledger entry of the simulation: %+v", e)
	}

	// Inline resources are the author's own: nothing is recorded for them
	// when draft consents stand in for the stored ones.
	inline := `{"caller":{"org":"Organization/org-b","purposes":["TREAT"]},"resources":[` + bpObs + `],"consents":[]}`
	if resp, out := h.post("/admin/decide", tokAdmin, inline); resp.StatusCode != 200 || len(h.ledger.entries) != 1 {
		t.Fatalf("inline simulation: %d %s, %d ledger entries", resp.StatusCode, out, len(h.ledger.entries))
	}

	// A ledger that cannot record withholds the answer.
	h.ledger.mu.Lock()
	h.ledger.fail = true
	h.ledger.mu.Unlock()
	resp, out = h.post("/admin/decide", tokAdmin, body)
	if resp.StatusCode != 500 || strings.Contains(out, "sud1") || !strings.Contains(out, "OperationOutcome") {
		t.Fatalf("simulation with a failing ledger: %d %s", resp.StatusCode, out)
	}
}

func TestDecideSimulationQueryRefusals(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	for name, q := range map[string]string{
		"dot segments":    "../../admin/consents",
		"encoded slash":   "Observation%2F..%2Fx",
		"absolute url":    "http://evil.example/Observation",
		"not a fhir type": "observation?patient=Patient/p1",
	} {
		body := `{"caller":{"org":"o","purposes":["TREAT"]},"query":"` + q + `"}`
		if resp, out := h.post("/admin/decide", tokAdmin, body); resp.StatusCode != 400 || !strings.Contains(out, "OperationOutcome") {
			t.Errorf("%s: %d %s", name, resp.StatusCode, out)
		}
	}
	select {
	case r := <-h.seen:
		t.Fatalf("a refused query reached the upstream: %s", r.URL)
	default:
	}
	broken := newHarness(t, fhirJSONHandler(500, `{"resourceType":"OperationOutcome"}`))
	body := `{"caller":{"org":"o","purposes":["TREAT"]},"query":"Observation?patient=Patient/p1"}`
	if resp, out := broken.post("/admin/decide", tokAdmin, body); resp.StatusCode != 502 || !strings.Contains(out, "OperationOutcome") {
		t.Errorf("upstream failure: %d %s", resp.StatusCode, out)
	}
}

// TestBreakGlassOnAnElementIsFlagged: an ordinary resource whose SUD
// element is kept only because of the emergency claim is a break-the-glass
// disclosure: flagged in the ledger and logged, like a whole resource.
func TestBreakGlassOnAnElementIsFlagged(t *testing.T) {
	t.Parallel()
	logs := &lockedBuffer{}
	h := newHarness(t, fhirJSONHandler(200, mixedEOB), func(_ *Options, d *Deps) {
		d.Auth = breakGlassAuth{}
		d.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	})
	resp, body := h.get("/fhir/ExplanationOfBenefit/eob1", "any")
	if resp.StatusCode != 200 || !strings.Contains(body, "F11.20") {
		t.Fatalf("break-glass read of a mixed resource: %d %s", resp.StatusCode, body)
	}
	if len(h.ledger.entries) != 1 || h.ledger.entries[0].BreakGlass == nil {
		t.Fatalf("the emergency disclosure of an element is not flagged: %+v", h.ledger.entries)
	}
	if !strings.Contains(logs.String(), "break-the-glass disclosure") {
		t.Fatalf("no break-the-glass log line: %s", logs.String())
	}
}

// recordingDecider remembers whether each input asked for a brief decision.
type recordingDecider struct {
	Decider
	mu    sync.Mutex
	brief map[bool]int
}

func (r *recordingDecider) Decide(ctx context.Context, in policy.Input) (policy.Decision, error) {
	r.mu.Lock()
	r.brief[in.Brief]++
	r.mu.Unlock()
	return r.Decider.Decide(ctx, in)
}

// TestBriefOnTheResponsePathOnly: the pipeline asks for brief decisions (it
// uses a deny's effect only), while POST /admin/decide explains a deny with
// every unmet restriction.
func TestBriefOnTheResponsePathOnly(t *testing.T) {
	t.Parallel()
	rec := &recordingDecider{brief: map[bool]int{}}
	h := newHarness(t, fhirJSONHandler(200, sudCondition), func(_ *Options, d *Deps) {
		rec.Decider = d.Decider
		d.Decider = rec
	})
	if resp, body := h.get("/fhir/Condition/c1", tokOther); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a withheld read: %d %s", resp.StatusCode, body)
	}
	rec.mu.Lock()
	if rec.brief[true] == 0 || rec.brief[false] != 0 {
		t.Fatalf("pipeline decisions, brief: %v", rec.brief)
	}
	rec.mu.Unlock()
	resp, body := h.post("/admin/decide", tokAdmin, decideBody("Organization/org-b", "TREAT", "", "", sudCondition))
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	var got DecideResponse
	if err := json.Unmarshal([]byte(body), &got); err != nil || len(got.Items) != 1 {
		t.Fatalf("%v %s", err, body)
	}
	d := got.Items[0].Decision
	if d.Effect != policy.Deny || len(d.Reasons) == 0 {
		t.Fatalf("simulation: %+v", d)
	}
	for _, r := range d.Reasons {
		if strings.HasPrefix(r.Rule, "withheld") {
			t.Fatalf("the simulation's deny is brief: %+v", d.Reasons)
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.brief[false] == 0 {
		t.Fatalf("simulation decisions, brief: %v", rec.brief)
	}
}

// TestDecideRequestMistakesInPlainWords: a malformed decide request is
// described in the request's terms, not Go's, and a purpose that is not a
// v3-PurposeOfUse code is simulated with a warning that names the code
// meant.
func TestDecideRequestMistakesInPlainWords(t *testing.T) {
	t.Parallel()
	h := newHarness(t, fhirJSONHandler(200, bpObs))
	for body, want := range map[string]string{
		`{"caller":{"org":"o","purpose":["TREAT"]},"resources":[` + bpObs + `]}`: `unknown field \"purpose\"`,
		`nonsense`: "not valid JSON",
		`{"caller":{"org":"o","purposes":"TREAT"},"resources":[` + bpObs + `]}`: "caller.purposes has a JSON string where a list is expected",
		``: "empty or cut short",
	} {
		resp, out := h.post("/admin/decide", tokAdmin, body)
		if resp.StatusCode != 400 || !strings.Contains(out, want) || strings.Contains(out, "Go struct") || strings.Contains(out, "[]string") {
			t.Errorf("%q: %d %s, want it to say %s", body, resp.StatusCode, out, want)
		}
	}
	resp, out := h.post("/admin/decide", tokAdmin, `{"caller":{"org":"o","purposes":["treat","TREAT"]},"resources":[`+bpObs+`]}`)
	var got DecideResponse
	if err := json.Unmarshal([]byte(out), &got); resp.StatusCode != 200 || err != nil {
		t.Fatalf("%d %v %s", resp.StatusCode, err, out)
	}
	if len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], `caller.purposes[0] "treat"`) || !strings.Contains(got.Warnings[0], `did you mean "TREAT"?`) {
		t.Fatalf("warnings %q", got.Warnings)
	}
}

// The request's patient belongs to inline resources that name none: a
// fetched resource that names no patient is not recorded as disclosed
// about it (QA: a Task fetched beside "patient": "Patient/p-sud" was
// recorded as p-sud's).
func TestDecideSimulationPatientIsNotGivenToFetchedResources(t *testing.T) {
	t.Parallel()
	task := `{"resourceType":"Task","id":"t1","status":"requested","intent":"order"}`
	h := newHarness(t, fhirJSONHandler(200, task))
	body := `{"caller":{"org":"Organization/org-b","purposes":["TREAT"]},"patient":"Patient/p9","query":"Task/t1"}`
	if resp, out := h.post("/admin/decide", tokAdmin, body); resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, out)
	}
	h.ledger.mu.Lock()
	defer h.ledger.mu.Unlock()
	if len(h.ledger.entries) != 1 || h.ledger.entries[0].Patient == "Patient/p9" || len(h.ledger.entries[0].Disclosed) != 1 {
		t.Fatalf("ledger: %+v", h.ledger.entries)
	}
}
