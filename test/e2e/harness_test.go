// Package e2e runs ds4p as a black box: the built binary, in front of a real
// FHIR server (Medplum's router, test/medplum), on a real bbolt file, with
// tokens minted by `ds4p token`, over real HTTP.
package e2e

import (
	"bufio"
	"bytes"
	"context"
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
	"github.com/ds4p/ds4p/internal/synth"
	"github.com/ds4p/ds4p/test/medplum"
)

// env is one running stack shared by the tests of a package run.
type env struct {
	bin      string
	data     string
	proxy    string // http://127.0.0.1:PORT
	upstream *medplum.Server
	ds       *synth.Dataset
	tokens   map[string]string
	proc     *servetest.Proc
	work     string
	synthea  [][]byte // ../shared/data/synthea-10 resources, when present
}

// scenario is one end-to-end check against the shared stack. Files of this
// package register theirs from init, so that each area's scenarios live
// beside each other.
type scenario struct {
	name string
	run  func(*testing.T, *env)
}

var scenarios []scenario

func register(name string, run func(*testing.T, *env)) {
	scenarios = append(scenarios, scenario{name, run})
}

// TestEndToEnd starts Medplum, loads the synthetic data (and Synthea when
// present), starts ds4p serve and mints tokens, then runs every scenario
// against that one stack.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end suite skipped in -short mode (it starts Node and Medplum)")
	}
	e, err := startStack(t)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.stop)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, e) })
	}
}

func startStack(t *testing.T) (*env, error) {
	root, err := filepath.Abs("../..")
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "ds4p-e2e-")
	if err != nil {
		return nil, err
	}
	e := &env{bin: filepath.Join(work, "ds4p"), data: filepath.Join(work, "data"), tokens: map[string]string{}, work: work}
	build := exec.Command("go", "build", "-o", e.bin, "./cmd/ds4p")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building ds4p: %v\n%s", err, out)
	}
	e.upstream = medplum.Start(t)
	e.ds = synth.Generate(synth.Options{Seed: 7, Patients: 8})
	var all [][]byte
	for _, r := range e.ds.Resources {
		all = append(all, r.JSON)
	}
	e.upstream.Put(t, all...)
	e.synthea, err = loadSynthea()
	if err != nil {
		return nil, err
	}
	e.upstream.Put(t, e.synthea...)
	if err := e.mintTokens(); err != nil {
		return nil, err
	}
	if err := e.startProxy(); err != nil {
		return nil, err
	}
	if err := e.storeConsent(); err != nil {
		return nil, err
	}
	return e, nil
}

// Callers of the suite.
const (
	orgConsented = "Organization/org-consented"
	orgOther     = "Organization/org-other"
)

func (e *env) mintTokens() error {
	specs := map[string][]string{
		"consented": {"--sub", "dr-a", "--org", orgConsented, "--purpose", "TREAT", "--scope", "user/*.read"},
		"marketing": {"--sub", "mk-a", "--org", orgConsented, "--purpose", "HMARKT", "--scope", "user/*.read"},
		"other":     {"--sub", "dr-b", "--org", orgOther, "--purpose", "TREAT", "--scope", "user/*.read"},
		"nopurpose": {"--sub", "dr-c", "--org", orgConsented, "--scope", "user/*.read"},
		"admin":     {"--sub", "auditor", "--org", "Organization/ops", "--scope", "ds4p/consent-manager ds4p/policy-author ds4p/auditor"},
	}
	for name, args := range specs {
		out, err := exec.Command(e.bin, append([]string{"token", "--data", e.data}, args...)...).Output()
		if err != nil {
			return fmt.Errorf("ds4p token %s: %w", name, err)
		}
		e.tokens[name] = strings.TrimSpace(string(out))
	}
	return nil
}

func (e *env) startProxy() error {
	config, err := e.writeLabelConfig()
	if err != nil {
		return err
	}
	cmd := exec.Command(e.bin, "serve", "--config", config, "--upstream", e.upstream.BaseURL, "--data", e.data, "--dev-auth", "--log-level", "warn")
	cmd.Env = append(os.Environ(), "OTEL_SDK_DISABLED=true")
	stderr, _ := cmd.StderrPipe()
	go drain(stderr)
	p, err := servetest.Start(cmd, 20*time.Second, nil)
	if err != nil {
		return err
	}
	e.proc, e.proxy = p, p.Base
	return nil
}

func drain(r io.Reader) {
	s := bufio.NewScanner(r)
	for s.Scan() {
		if strings.Contains(s.Text(), `"level":"ERROR"`) {
			fmt.Fprintln(os.Stderr, "ds4p:", s.Text())
		}
	}
}

// response is one answer from the proxy.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response is not JSON (%d): %v\n%s", r.Status, err, r.Body)
	}
	return m
}

func (e *env) do(t *testing.T, method, url, token string, body io.Reader, hdr ...string) response {
	t.Helper()
	if !strings.HasPrefix(url, "http") {
		url = e.proxy + url
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

func (e *env) get(t *testing.T, url, caller string) response {
	t.Helper()
	return e.do(t, http.MethodGet, url, e.tokens[caller], nil)
}

// sensitive returns the ids ("Type/id") of a patient's resources whose ground
// truth topic is SUD.
func (e *env) sensitive(patient string) map[string]bool {
	out := map[string]bool{}
	for _, r := range e.ds.ByPatient(patient) {
		for _, topic := range r.Topics {
			if topic == "SUD" {
				out[r.Type+"/"+r.ID] = true
			}
		}
	}
	return out
}

// ids lists the "Type/id" of every resource in a Bundle, nested ones too.
func ids(t *testing.T, bundle map[string]any) []string {
	t.Helper()
	var out []string
	entries, _ := bundle["entry"].([]any)
	for _, e := range entries {
		res, _ := e.(map[string]any)["resource"].(map[string]any)
		if res == nil {
			continue
		}
		if res["resourceType"] == "Bundle" {
			out = append(out, ids(t, res)...)
			continue
		}
		out = append(out, fmt.Sprintf("%s/%s", res["resourceType"], res["id"]))
	}
	return out
}

// totalCountsOnlyMatches reports whether a searchset's total, when it has
// one, is the number of match entries it holds: a total that counts more
// counts what the caller was not given.
func totalCountsOnlyMatches(bundle map[string]any) bool {
	total, ok := bundle["total"].(float64)
	if !ok {
		return true
	}
	matches := 0
	entries, _ := bundle["entry"].([]any)
	for _, e := range entries {
		search, _ := e.(map[string]any)["search"].(map[string]any)
		if mode, _ := search["mode"].(string); mode == "" || mode == "match" {
			matches++
		}
	}
	return int(total) == matches
}

// sudPatient has Part 2 SUD records and a consent that lets orgConsented see
// them for treatment.
const sudPatient = "Patient/pat-0"

func (e *env) storeConsent() error { return e.postConsent(sudPatient) }

// postConsent stores, for patient, a Part 2 consent by which orgConsented
// may see everything for treatment.
func (e *env) postConsent(patient string) error {
	body := `{"resourceType":"Consent","status":"active",
	  "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	  "category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
	  "patient":{"reference":"` + patient + `"},
	  "provision":{"type":"deny","provision":[{"type":"permit",
	    "actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"` + orgConsented + `"}}],
	    "purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}]}]}}`
	return e.postConsentBody(patient, body)
}

// postConsentBody stores a Consent through /admin/Consent as the admin.
func (e *env) postConsentBody(patient, body string) error {
	req, _ := http.NewRequest(http.MethodPost, e.proxy+"/admin/Consent", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.tokens["admin"])
	req.Header.Set("Content-Type", "application/fhir+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("storing the consent for %s: %d %s", patient, resp.StatusCode, b)
	}
	return nil
}

// syntheaDir is the third-party Synthea sample beside the checkout.
const syntheaDir = "../../../shared/data/synthea-10"

// loadSynthea reads every resource of the Synthea sample; none when the
// folder is absent (a fresh clone without shared/).
func loadSynthea() ([][]byte, error) {
	files, err := filepath.Glob(filepath.Join(syntheaDir, "*.ndjson"))
	if err != nil || len(files) == 0 {
		return nil, err
	}
	var out [][]byte
	for _, f := range files {
		if strings.HasSuffix(f, "log.ndjson") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for _, line := range bytes.Split(b, []byte("\n")) {
			if len(bytes.TrimSpace(line)) > 0 {
				out = append(out, line)
			}
		}
	}
	return out, nil
}

func (e *env) stop() {
	if e.proc != nil {
		e.proc.Stop(5 * time.Second)
	}
	_ = os.RemoveAll(e.work)
}
