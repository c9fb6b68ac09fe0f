package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/internal/servetest"
)

func init() {
	register("Part2DisclosureWithConsentCarriesNotice", testPart2DisclosureCarriesNotice)
	register("Part2DeniedWithoutConsent", testPart2DeniedWithoutConsent)
	register("BreakGlassDisclosureRecorded", testBreakGlassDisclosureRecorded)
	register("PolicySimulationRecordsWhatItShows", testPolicySimulation)
	register("PolicyDirReloadAndRejection", testPolicyDirReloadAndRejection)
}

// noticeText is the 42 CFR 2.32 notice of the default policy data.
const noticeText = "42 CFR part 2 prohibits unauthorized use or disclosure of these records."

// part2Records lists the ids ("Type/id") of the SUD patient's records from
// the Part 2 program (the generator's ground truth).
func (e *env) part2Records() map[string]bool {
	out := map[string]bool{}
	for _, r := range e.ds.ByPatient(sudPatient) {
		if r.Part2 {
			out[r.Type+"/"+r.ID] = true
		}
	}
	return out
}

// entries returns each resource of a Bundle with its search mode.
func entries(t *testing.T, body []byte) (resources []map[string]any, modes []string) {
	t.Helper()
	var b struct {
		Entry []struct {
			Resource map[string]any
			Search   struct{ Mode string }
		}
	}
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatalf("not a Bundle: %v", err)
	}
	for _, en := range b.Entry {
		resources = append(resources, en.Resource)
		modes = append(modes, en.Search.Mode)
	}
	return resources, modes
}

// testPart2DisclosureCarriesNotice: the consented caller (harness consent:
// orgConsented, TREAT) sees the Part 2 records; each carries 42CFRPart2 and
// NORDSCLCD, the response carries the 42 CFR 2.32 notice in the
// X-DS4P-Notice header, and the searchset ends with an outcome entry
// holding it. The 42CFRPart2 label comes from the labeller's Part 2 source
// rules (the labelling issue, with the harness's part2_programs config);
// without it the policy treats the records as SUD data and owes no notice,
// which this scenario reports as a failure.
func testPart2DisclosureCarriesNotice(t *testing.T, e *env) {
	part2 := e.part2Records()
	r := e.get(t, "/fhir/Condition?subject="+sudPatient+"&_count=200", "consented")
	if r.Status != http.StatusOK {
		t.Fatalf("search: %d %s", r.Status, r.Body)
	}
	resources, modes := entries(t, r.Body)
	labelled := 0
	for i, res := range resources {
		id := fmt.Sprintf("%s/%s", res["resourceType"], res["id"])
		if modes[i] == "outcome" || !part2[id] {
			continue
		}
		codes := securityCodes(res)
		if !codes["42CFRPart2"] {
			t.Errorf("%s from the Part 2 program lacks 42CFRPart2 (labelling issue): %v", id, codes)
			continue
		}
		labelled++
		if !codes["NORDSCLCD"] {
			t.Errorf("%s disclosed without NORDSCLCD: %v", id, codes)
		}
	}
	if labelled == 0 {
		t.Fatal("no Part 2 record with 42CFRPart2 reached the consented caller")
	}
	if !strings.Contains(r.Header.Get("X-DS4P-Notice"), noticeText) {
		t.Errorf("X-DS4P-Notice header %q, want the 42 CFR 2.32 notice", r.Header.Get("X-DS4P-Notice"))
	}
	// 42 CFR 2.32(b): the consent's scope accompanies the disclosure.
	scope := ""
	for _, v := range r.Header.Values("X-DS4P-Notice") {
		if strings.HasPrefix(v, "42CFR2.32(b); Disclosed with the patient's written consent. Consent/") {
			scope = v
		}
	}
	if !strings.Contains(scope, "it permits disclosure to "+orgConsented+" for the purposes TREAT") {
		t.Errorf("no explanation of the consent's scope (42 CFR 2.32(b)) among the notices: %q", r.Header.Values("X-DS4P-Notice"))
	}
	last := len(resources) - 1
	if modes[last] != "outcome" || resources[last]["resourceType"] != "OperationOutcome" || !strings.Contains(fmt.Sprint(resources[last]), noticeText) {
		t.Errorf("the searchset does not end with the notice outcome entry: %v", resources[last])
	}
	for id := range part2 {
		if strings.HasPrefix(id, "Condition/") {
			read := e.get(t, "/fhir/"+id, "consented")
			if read.Status != http.StatusOK || !strings.Contains(read.Header.Get("X-DS4P-Notice"), noticeText) {
				t.Errorf("read %s: %d, notice header %q", id, read.Status, read.Header.Get("X-DS4P-Notice"))
			}
			break
		}
	}
}

// testPart2DeniedWithoutConsent: callers without a matching consent see no
// Part 2 record and get no notice (which would reveal that something under
// Part 2 exists).
func testPart2DeniedWithoutConsent(t *testing.T, e *env) {
	part2 := e.part2Records()
	for _, caller := range []string{"other", "marketing", "nopurpose"} {
		r := e.get(t, "/fhir/Condition?subject="+sudPatient+"&_count=200", caller)
		if r.Status != http.StatusOK {
			t.Fatalf("%s: %d %s", caller, r.Status, r.Body)
		}
		if got := leaked(part2, ids(t, r.json(t))); len(got) > 0 {
			t.Errorf("%s saw Part 2 records %v", caller, got)
		}
		if r.Header.Get("X-DS4P-Notice") != "" || strings.Contains(string(r.Body), `"outcome"`) {
			t.Errorf("%s got a notice for records it cannot see: %v %s", caller, r.Header, r.Body)
		}
	}
}

// testBreakGlassDisclosureRecorded: an emergency caller (ETREAT and a
// break-the-glass reason, no consent) reads a Part 2 record; the ledger
// entry of that request records the 42 CFR 2.51 details. The same caller
// without the claim gets the not-found answer.
func testBreakGlassDisclosureRecorded(t *testing.T, e *env) {
	const reason = "unresponsive in the ED, suspected overdose"
	var record string
	for id := range e.part2Records() {
		if strings.HasPrefix(id, "Condition/") {
			record = id
		}
	}
	plain := e.mintToken(t, "--sub", "dr-er", "--org", "Organization/er-hospital", "--purpose", "ETREAT", "--scope", "user/*.read")
	if r := e.do(t, http.MethodGet, "/fhir/"+record, plain, nil); r.Status != http.StatusNotFound {
		t.Fatalf("ETREAT without a break-the-glass claim: %d", r.Status)
	}
	bg := e.mintToken(t, "--sub", "dr-er", "--org", "Organization/er-hospital", "--purpose", "ETREAT", "--break-glass", reason, "--scope", "user/*.read")
	r := e.do(t, http.MethodGet, "/fhir/"+record, bg, nil, "X-Request-Id", "e2e-break-glass-1")
	if r.Status != http.StatusOK {
		t.Fatalf("break-the-glass read: %d %s", r.Status, r.Body)
	}
	if codes := securityCodes(r.json(t)); !codes["NORDSCLCD"] {
		t.Errorf("emergency disclosure without NORDSCLCD: %v", codes)
	}
	a := e.get(t, "/admin/audit?patient="+sudPatient+"&_count=1000", "admin")
	var got struct {
		Entries []struct {
			RequestID  string `json:"request_id"`
			Caller     struct{ Subject, Org string }
			Disclosed  []struct{ Type, ID string }
			BreakGlass *struct {
				Reason, Recipient, Affiliation string
				DisclosedBy                    string `json:"disclosed_by"`
			} `json:"break_glass"`
		} `json:"entries"`
	}
	if err := json.Unmarshal(a.Body, &got); err != nil {
		t.Fatalf("%v: %s", err, a.Body)
	}
	for _, en := range got.Entries {
		if en.RequestID != "e2e-break-glass-1" {
			continue
		}
		bgr := en.BreakGlass
		if bgr == nil || bgr.Reason != reason || bgr.Recipient != "dr-er" || bgr.Affiliation != "Organization/er-hospital" || bgr.DisclosedBy == "" {
			t.Fatalf("ledger entry lacks the 42 CFR 2.51 record: %+v", bgr)
		}
		if len(en.Disclosed) != 1 || en.Disclosed[0].Type+"/"+en.Disclosed[0].ID != record {
			t.Errorf("ledger disclosed %v, want %s", en.Disclosed, record)
		}
		return
	}
	t.Fatal("no ledger entry for the break-the-glass request")
}

// testPolicySimulation asks POST /admin/decide how the policy treats a
// Part 2 record for two callers, and checks that what it showed the author
// of the patient's stored consents was recorded, and nothing else.
func testPolicySimulation(t *testing.T, e *env) {
	var record string
	for id := range e.part2Records() {
		if strings.HasPrefix(id, "Condition/") {
			record = id
		}
	}
	direct := e.do(t, http.MethodGet, e.upstream.BaseURL+"/"+record, "", nil, "Accept", "application/fhir+json")
	prior := e.get(t, "/admin/audit?patient="+sudPatient+"&_count=1000", "admin").json(t)["entries"].([]any)
	before, seen := len(prior), map[float64]bool{}
	for _, x := range prior {
		seen[x.(map[string]any)["seq"].(float64)] = true
	}
	for org, want := range map[string]string{orgConsented: "permit", orgOther: "deny"} {
		body := `{"caller":{"subject":"sim","org":"` + org + `","purposes":["TREAT"]},"resources":[` + string(direct.Body) + `]}`
		r := e.do(t, http.MethodPost, "/admin/decide", e.tokens["admin"], strings.NewReader(body), "Content-Type", "application/json")
		if r.Status != http.StatusOK {
			t.Fatalf("decide: %d %s", r.Status, r.Body)
		}
		var got struct {
			Items []struct {
				Decision struct {
					Effect  string
					Reasons []struct{ Rule, Consent string }
				}
			}
		}
		if err := json.Unmarshal(r.Body, &got); err != nil || len(got.Items) != 1 {
			t.Fatalf("decide answer: %v %s", err, r.Body)
		}
		if d := got.Items[0].Decision; d.Effect != want || len(d.Reasons) == 0 || d.Reasons[0].Consent == "" {
			t.Errorf("%s: %+v, want %s with the consent named", org, d, want)
		}
	}
	// Each simulation read the patient's stored consents, and the targets
	// of the record's references to label it (1e1093e): shown to the
	// policy author, so recorded (interaction simulate, the author as the
	// recipient, those as disclosed), nothing else.
	entries := e.get(t, "/admin/audit?patient="+sudPatient+"&_count=1000", "admin").json(t)["entries"].([]any)
	if len(entries)-before != 2 {
		t.Fatalf("the two simulations wrote %d ledger entries, want 2", len(entries)-before)
	}
	sims := 0
	for _, x := range entries {
		en := x.(map[string]any)
		if seen[en["seq"].(float64)] {
			continue
		}
		if en["interaction"] != "simulate" {
			t.Errorf("the simulations wrote a %v entry", en["interaction"])
			continue
		}
		sims++
		if c := en["caller"].(map[string]any); c["subject"] != "auditor" {
			t.Errorf("simulation entry's recipient %v, want the author", c)
		}
		for _, d := range asList(en["disclosed"]) {
			d := d.(map[string]any)
			if typ := d["type"]; typ != "Consent" && !strings.Contains(string(direct.Body), `"`+fmt.Sprint(typ)+"/"+fmt.Sprint(d["id"])+`"`) {
				t.Errorf("a simulation entry records %v/%v as disclosed: only the consents and the targets of the record's references were read", typ, d["id"])
			}
		}
		if len(asList(en["consents"])) == 0 {
			t.Error("a simulation entry names no consent")
		}
	}
	if sims != 2 {
		t.Errorf("%d new simulation entries, want 2", sims)
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// policyServer is a second `ds4p serve` with its own data directory and a
// policy directory the scenario edits, in front of the shared upstream.
type policyServer struct {
	base, data, dir string
}

func startPolicyServer(t *testing.T, e *env) *policyServer {
	t.Helper()
	ps := &policyServer{data: t.TempDir(), dir: filepath.Join(t.TempDir(), "policy")}
	if out, err := exec.Command(e.bin, "policy", "export", "--dir", ps.dir).CombinedOutput(); err != nil {
		t.Fatalf("ds4p policy export: %v %s", err, out)
	}
	config, err := e.writeLabelConfig()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(e.bin, "serve", "--config", config, "--upstream", e.upstream.BaseURL,
		"--data", ps.data, "--dev-auth", "--log-level", "warn", "--policy-dir", ps.dir)
	cmd.Env = append(os.Environ(), "OTEL_SDK_DISABLED=true")
	stderr, _ := cmd.StderrPipe()
	go drain(stderr)
	p, err := servetest.Start(cmd, 20*time.Second, nil)
	if err != nil {
		t.Fatalf("the policy server: %v", err)
	}
	t.Cleanup(func() { p.Stop(5 * time.Second) })
	ps.base = p.Base
	return ps
}

// waitReady polls /readyz until ok says so.
func (ps *policyServer) waitReady(t *testing.T, ok func(status int, body string) bool) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		resp, err := http.Get(ps.base + "/readyz")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			last = string(b)
			if ok(resp.StatusCode, last) {
				return last
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("readiness never reached the expected state; last: %s", last)
	return ""
}

func (ps *policyServer) revision(t *testing.T, e *env, admin string) (rev string, rejected bool) {
	t.Helper()
	r := e.do(t, http.MethodGet, ps.base+"/admin/policy", admin, nil)
	var st struct {
		Revision string
		Rejected *struct{ Revision, Error string }
	}
	if err := json.Unmarshal(r.Body, &st); err != nil || r.Status != http.StatusOK {
		t.Fatalf("/admin/policy: %d %s", r.Status, r.Body)
	}
	return st.Revision, st.Rejected != nil
}

// testPolicyDirReloadAndRejection runs a second proxy on an exported policy
// directory. A compliance analyst edits the state-law table so that mental
// health data needs consent even for treatment: the next request after the
// reload is refused, without a restart. Then a broken Rego file is saved:
// it is rejected, /readyz warns (staying ready), and the previous revision
// keeps serving.
// Restoring the file clears the rejection.
func testPolicyDirReloadAndRejection(t *testing.T, e *env) {
	ps := startPolicyServer(t, e)
	tok := func(args ...string) string {
		out, err := exec.Command(e.bin, append([]string{"token", "--data", ps.data}, args...)...).Output()
		if err != nil {
			t.Fatalf("ds4p token: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	treat := tok("--sub", "dr-mh", "--org", orgOther, "--purpose", "TREAT", "--scope", "user/*.read")
	admin := tok("--sub", "analyst", "--org", "Organization/ops", "--scope", "ds4p/policy-author")
	const mhRecord = "/fhir/Condition/pat-4-mh-dep-cond"
	const ordinary = "/fhir/Patient/pat-4"
	get := func(path string) response { return e.do(t, http.MethodGet, ps.base+path, treat, nil) }

	r := get(mhRecord)
	if r.Status != http.StatusOK {
		t.Fatalf("mental health record for treatment under the default table: %d %s", r.Status, r.Body)
	}
	if codes := securityCodes(r.json(t)); !codes["MH"] && !codes["PSY"] && !codes["BH"] {
		t.Fatalf("the mental health record is not labelled MH/PSY/BH (labelling issue): %v", codes)
	}
	first, _ := ps.revision(t, e, admin)

	table := filepath.Join(ps.dir, "ds4p/config/state_law/data.json")
	orig, err := os.ReadFile(table)
	if err != nil {
		t.Fatal(err)
	}
	mhRow := `"law": "State mental health confidentiality laws: disclosure for treatment, otherwise with consent",
      "without_consent": ["TREAT", "ETREAT"]`
	if !strings.Contains(string(orig), mhRow) {
		t.Fatal("the MH row of the state-law table changed; update this scenario")
	}
	edited := strings.Replace(string(orig), mhRow, `"law": "State mental health confidentiality laws: consent required, even for treatment",
      "without_consent": []`, 1)
	if err := os.WriteFile(table, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	second := waitRevision(t, ps, e, admin, func(rev string, _ bool) bool { return rev != first })
	if r := get(mhRecord); r.Status != http.StatusNotFound {
		t.Fatalf("after the policy data change the MH record answers %d, want 404", r.Status)
	}
	if r := get(ordinary); r.Status != http.StatusOK {
		t.Fatalf("ordinary data after the change: %d", r.Status)
	}

	main := filepath.Join(ps.dir, "ds4p/main.rego")
	good, _ := os.ReadFile(main)
	if err := os.WriteFile(main, append(append([]byte{}, good...), "\nbroken := {\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	waitRevision(t, ps, e, admin, func(_ string, rejected bool) bool { return rejected })
	// Degraded, not down: the proxy still decides with the last good
	// revision, so it stays in rotation and /readyz warns.
	body := ps.waitReady(t, func(status int, body string) bool {
		return status == http.StatusOK && strings.Contains(body, `"policy_reload":{"detail"`) && strings.Contains(body, `"status":"warn"`)
	})
	if !strings.Contains(body, second) {
		t.Errorf("/readyz does not name the serving revision %s: %s", second, body)
	}
	if rev, _ := ps.revision(t, e, admin); rev != second {
		t.Fatalf("the broken policy replaced revision %s with %s", second, rev)
	}
	if r := get(mhRecord); r.Status != http.StatusNotFound {
		t.Errorf("while the broken policy is rejected the MH record answers %d, want 404 (previous revision)", r.Status)
	}
	if r := get(ordinary); r.Status != http.StatusOK {
		t.Errorf("while the broken policy is rejected ordinary data answers %d", r.Status)
	}

	if err := os.WriteFile(main, good, 0o644); err != nil {
		t.Fatal(err)
	}
	waitRevision(t, ps, e, admin, func(rev string, rejected bool) bool { return !rejected && rev == second })
	ps.waitReady(t, func(status int, body string) bool {
		return status == http.StatusOK && strings.Contains(body, `"status":"pass"`) && !strings.Contains(body, `"warn"`)
	})
}

func waitRevision(t *testing.T, ps *policyServer, e *env, admin string, ok func(rev string, rejected bool) bool) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		rev, rejected := ps.revision(t, e, admin)
		if ok(rev, rejected) {
			return rev
		}
		time.Sleep(200 * time.Millisecond)
	}
	rev, rejected := ps.revision(t, e, admin)
	t.Fatalf("policy status never changed as expected: revision %s, rejected %v", rev, rejected)
	return ""
}
