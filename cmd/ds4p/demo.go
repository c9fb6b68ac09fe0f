package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ds4p/ds4p/internal/fhirmem"
	"github.com/ds4p/ds4p/internal/synth"
	"github.com/ds4p/ds4p/proxy/authn"
)

const demoHelp = `Runs the whole thing on this machine with no other service: a demo FHIR
server with synthetic patients (in-process), the proxy in front of it with
development tokens, and a stored consent by which patient pat-0 lets
Organization/demo-clinic see her substance-use-disorder records for
treatment. It prints tokens and curl lines that show pat-0 as seen by a
consented and a non-consented caller. With --check it makes those requests
itself, prints what each caller saw, and exits (non-zero if anything leaked).`

// Demo identities.
const (
	demoPatient      = "Patient/pat-0"
	demoConsentedOrg = "Organization/demo-clinic"
	demoOtherOrg     = "Organization/other-clinic"
)

type demoTokens struct {
	consented, other, noPurpose, admin string
	// One token per admin role, for the web console at /console.
	auditor, policyAuthor, consentManager string
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("demo", demoHelp, stderr)
	if wantsHelp(args) {
		fs.SetOutput(stdout)
	}
	listen := fs.String("listen", DefaultListen, "address of the proxy, HOST:PORT (port 0 picks a free one)")
	data := fs.String("data", "", "data directory: a new one, or one an earlier demo made (default: a new temporary directory, removed at the end)")
	patients := fs.Int("patients", 10, "number of synthetic patients")
	seed := fs.Int64("seed", 1, "seed of the synthetic data")
	check := fs.Bool("check", false, "make the example requests, print what each caller saw, and exit")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	dir, cleanup, err := demoDataDir(*data)
	if err != nil {
		return err
	}
	defer cleanup()
	ds := synth.Generate(synth.Options{Seed: *seed, Patients: *patients})
	upstream, stopUpstream, err := startDemoUpstream(ds)
	if err != nil {
		return err
	}
	defer stopUpstream()

	cfg := defaultConfig()
	cfg.Listen, cfg.Upstream, cfg.DataDir, cfg.Auth.Dev = *listen, upstream, dir, true
	cfg.Labels.Part2Programs = []Part2Program{synthPart2Program()}
	if err := cfg.Validate(); err != nil {
		return err
	}
	st, err := openStack(ctx, cfg, newLogger(io.Discard, "error"))
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.consents.Put(ctx, demoConsent()); err != nil {
		return fmt.Errorf("storing the demo consent: %w", err)
	}
	toks, err := mintDemoTokens(dir)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	if *check {
		return demoCheck(ctx, ln, st, base, toks, ds, stdout)
	}
	printDemo(stdout, base, dir, toks)
	return serveHTTP(ctx, ln, st.server.Handler(), cfg.Limits.UpstreamTimeout)
}

// demoMarker marks a data directory the demo made, so a later demo may use
// it again.
const demoMarker = ".ds4p-demo"

// demoDataDir returns the demo's data directory: dir when given, else a new
// temporary one removed at the end. The demo stores a synthetic consent and
// chains its disclosures into the ledger, so a dir that holds a database
// the demo did not make (serve's, say) is refused: those entries could
// never be told apart or removed.
func demoDataDir(dir string) (string, func(), error) {
	if dir != "" {
		_, dbErr := os.Stat(filepath.Join(dir, DBFile))
		_, markErr := os.Stat(filepath.Join(dir, demoMarker))
		if dbErr == nil && markErr != nil {
			return "", nil, fmt.Errorf("%s holds a ds4p database the demo did not make: the demo would add a synthetic consent and its disclosures to it; give a new directory", dir)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, demoMarker), []byte("made by ds4p demo\n"), 0o600); err != nil {
			return "", nil, err
		}
		return dir, func() {}, nil
	}
	tmp, err := os.MkdirTemp("", "ds4p-demo-")
	if err != nil {
		return "", nil, err
	}
	return tmp, func() { _ = os.RemoveAll(tmp) }, nil
}

// startDemoUpstream serves the synthetic data from an in-process FHIR
// server on a free loopback port.
func startDemoUpstream(ds *synth.Dataset) (string, func(), error) {
	up := fhirmem.New("/fhir/R4")
	for _, r := range ds.Resources {
		if err := up.Load(r.JSON); err != nil {
			return "", nil, fmt.Errorf("loading demo data: %w", err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: up, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String() + "/fhir/R4", func() { _ = srv.Close() }, nil
}

func demoConsent() []byte {
	return []byte(`{
  "resourceType": "Consent",
  "status": "active",
  "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
  "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
  "patient": {"reference": "` + demoPatient + `"},
  "dateTime": "2026-01-05",
  "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "42CFRPart2"}]},
  "provision": {
    "type": "deny",
    "provision": [{
      "type": "permit",
      "actor": [{
        "role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}]},
        "reference": {"reference": "` + demoConsentedOrg + `"}
      }],
      "purpose": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "TREAT"}]
    }]
  }
}`)
}

func mintDemoTokens(dir string) (demoTokens, error) {
	var t demoTokens
	var errs []error
	mint := func(c authn.DevClaims) string {
		c.TTL = 12 * time.Hour
		tok, err := authn.MintDev(dir, c)
		errs = append(errs, err)
		return tok
	}
	t.consented = mint(authn.DevClaims{Subject: "dr-consented", Org: demoConsentedOrg, Client: "demo", Purposes: []string{"TREAT"}, Scopes: []string{"user/*.read"}})
	t.other = mint(authn.DevClaims{Subject: "dr-other", Org: demoOtherOrg, Client: "demo", Purposes: []string{"TREAT"}, Scopes: []string{"user/*.read"}})
	t.noPurpose = mint(authn.DevClaims{Subject: "dr-nopurpose", Org: demoConsentedOrg, Client: "demo", Scopes: []string{"user/*.read"}})
	t.admin = mint(authn.DevClaims{Subject: "auditor", Org: "Organization/ds4p-operator", Client: "demo", Scopes: []string{authn.ConsentManagerScope, authn.AuditorScope}})
	t.auditor = mint(authn.DevClaims{Subject: "demo-auditor", Org: "Organization/ds4p-operator", Client: "console", Scopes: []string{authn.AuditorScope}})
	t.policyAuthor = mint(authn.DevClaims{Subject: "demo-compliance", Org: "Organization/ds4p-operator", Client: "console", Scopes: []string{authn.PolicyAuthorScope}})
	t.consentManager = mint(authn.DevClaims{Subject: "demo-consent-manager", Org: "Organization/ds4p-operator", Client: "console", Scopes: []string{authn.ConsentManagerScope}})
	return t, errors.Join(errs...)
}

func printDemo(w io.Writer, base, dir string, t demoTokens) {
	fmt.Fprintf(w, `ds4p demo: proxy at %[1]s/fhir in front of a demo FHIR server with synthetic patients.
Data directory: %[2]s

Patient pat-0 has substance-use-disorder records from a 42 CFR Part 2 program, and a
consent that lets %[3]s (only) see them for treatment.

  export CONSENTED=%[4]s
  export OTHER=%[5]s
  export NOPURPOSE=%[6]s
  export ADMIN=%[7]s

# pat-0's conditions as the consented clinic sees them (SUD diagnoses included, labelled SUD/R):
  curl -s -H "Authorization: Bearer $CONSENTED" '%[1]s/fhir/Condition?subject=Patient/pat-0'

# ... and as another clinic sees them (SUD diagnoses withheld, no total that counts them):
  curl -s -H "Authorization: Bearer $OTHER" '%[1]s/fhir/Condition?subject=Patient/pat-0'

# a token without a purpose of use is never read as treatment:
  curl -s -H "Authorization: Bearer $NOPURPOSE" '%[1]s/fhir/Patient/pat-0/$everything'

# the disclosure ledger for pat-0:
  curl -s -H "Authorization: Bearer $ADMIN" '%[1]s/admin/audit?patient=Patient/pat-0'

# the stored consents of pat-0:
  curl -s -H "Authorization: Bearer $ADMIN" '%[1]s/admin/Consent?patient=Patient/pat-0'

# the web console (paste one of these tokens to sign in; each role sees its own pages):
#   %[1]s/console/
  export CONSOLE_AUDITOR=%[8]s
  export CONSOLE_COMPLIANCE=%[9]s
  export CONSOLE_CONSENT_MANAGER=%[10]s

Press Ctrl-C to stop.
`, base, dir, demoConsentedOrg, t.consented, t.other, t.noPurpose, t.admin, t.auditor, t.policyAuthor, t.consentManager)
}

// demoCheck serves in the background, asks as each caller, and compares what
// came back with the generator's ground truth.
func demoCheck(ctx context.Context, ln net.Listener, st *stack, base string, t demoTokens, ds *synth.Dataset, w io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = serveHTTP(ctx, ln, st.server.Handler(), time.Minute) }()
	var sud []string
	for _, r := range ds.ByPatient(demoPatient) {
		if contains(r.Topics, "SUD") {
			sud = append(sud, `"id":"`+r.ID+`"`)
		}
	}
	if len(sud) == 0 {
		return errors.New("the demo data has no SUD records for pat-0")
	}
	url := base + "/fhir/Patient/pat-0/$everything"
	var problems []string
	for _, c := range []struct {
		name, tok string
		sees      bool
	}{{"consented clinic (TREAT)", t.consented, true}, {"other clinic (TREAT)", t.other, false}, {"no purpose of use", t.noPurpose, false}} {
		status, body, err := demoGet(ctx, url, c.tok)
		if err != nil {
			return err
		}
		seen := 0
		for _, id := range sud {
			if strings.Contains(body, id) {
				seen++
			}
		}
		fmt.Fprintf(w, "%-26s HTTP %d  %7d bytes  SUD records seen: %d of %d\n", c.name, status, len(body), seen, len(sud))
		if status != http.StatusOK || (c.sees && seen != len(sud)) || (!c.sees && seen != 0) {
			problems = append(problems, c.name)
		}
	}
	status, body, err := demoGet(ctx, base+"/admin/audit?patient=Patient/pat-0", t.admin)
	if err != nil {
		return err
	}
	entries := strings.Count(body, `"request_id"`)
	fmt.Fprintf(w, "%-26s HTTP %d  ledger entries for pat-0: %d\n", "auditor", status, entries)
	if status != http.StatusOK || entries < 3 {
		problems = append(problems, "ledger")
	}
	if len(problems) > 0 {
		return fmt.Errorf("demo check failed for: %s", strings.Join(problems, ", "))
	}
	fmt.Fprintln(w, "demo check passed: the consented clinic sees pat-0's SUD records, nobody else does, and every disclosure is in the ledger")
	return nil
}

func demoGet(ctx context.Context, url, tok string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
