package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/rego"
)

const tokenHelp = `Mints a development token signed with the key kept in the data directory
(created on first use). ` + "`ds4p serve --dev-auth --data DIR`" + ` trusts it. Without
--purpose the token states no purpose of use, and the proxy then discloses no
restricted data.`

func runToken(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("token", tokenHelp, stderr)
	if wantsHelp(args) {
		fs.SetOutput(stdout)
	}
	data := fs.String("data", offlineDataDir(), "data directory holding the dev signing key (default DS4P_DATA_DIR when set, as serve reads it)")
	sub := fs.String("sub", "", "subject (the user), required")
	org := fs.String("org", "", "the caller's organisation, e.g. Organization/org-a")
	client := fs.String("client", "", "client id")
	purpose := fs.String("purpose", "", "purpose(s) of use, v3-ActReason codes, comma separated (e.g. TREAT)")
	scope := fs.String("scope", "", `space-separated scopes: SMART scopes for /fhir (e.g. "user/*.read", "patient/Observation.rs") and admin roles (ds4p/consent-manager, ds4p/policy-author, ds4p/auditor); none: the token reaches nothing but /fhir/metadata`)
	patient := fs.String("patient", "", "SMART patient context (a Patient id): the token reaches only that patient's compartment, and patient/ scopes apply")
	fhirUser := fs.String("fhir-user", "", `SMART fhirUser: the user's own FHIR resource, e.g. "Patient/pat-7" for a patient reading their own record (the policy's right of access, with --purpose PATRQT)`)
	breakGlass := fs.String("break-glass", "", "break-the-glass reason (emergency access claim)")
	orgName := fs.String("org-name", "", "the recipient organisation's name, for the accounting of disclosures (claim org_name)")
	orgAddress := fs.String("org-address", "", "the recipient organisation's postal or electronic address (claim org_address)")
	ttl := fs.Duration("ttl", time.Hour, "lifetime of the token")
	anyPurpose := fs.Bool("any-purpose", false, "mint --purpose codes that are not v3-PurposeOfUse codes (to test how the proxy treats them)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	purposes := splitList(*purpose)
	if !*anyPurpose {
		if err := checkPurposes(purposes); err != nil {
			return err
		}
	}
	if *sub == "" {
		return usagef("--sub is required")
	}
	if *ttl <= 0 {
		// Not quietly an hour: a tester asking for an expired token would
		// get one that works. An expired one: --ttl 1s, then wait past
		// the accepted clock skew (auth.skew, --token-skew; 30 s by default).
		return usagef("--ttl %s: want a positive lifetime such as 1h", *ttl)
	}
	if *fhirUser != "" && authn.FHIRUserRef(*fhirUser) == "" {
		return usagef("--fhir-user %q: want a reference such as Patient/pat-7 (Patient, Practitioner, PractitionerRole, RelatedPerson or Person)", *fhirUser)
	}
	if ref := authn.FHIRUserRef(*fhirUser); strings.HasPrefix(ref, "Patient/") && *patient == "" {
		// A patient's own app: the proxy binds the token to the patient's
		// compartment as if it carried the patient claim (proxy/edge.go
		// bindPatientUser); a SMART app expects the claim all the same.
		fmt.Fprintf(stderr, "ds4p token: note: --fhir-user %s without --patient: the proxy binds the token to that patient's compartment; SMART apps expect --patient %s too\n", ref, strings.TrimPrefix(ref, "Patient/"))
	}
	if *breakGlass != "" {
		warnBreakGlass(stderr, *breakGlass, purposes, *ttl)
	}
	_, statErr := os.Stat(filepath.Join(*data, authn.DevKeyFile))
	tok, err := authn.MintDev(*data, authn.DevClaims{
		Subject: *sub, Org: *org, Client: *client, Purposes: purposes,
		Scopes: strings.Fields(*scope), BreakGlass: *breakGlass, Patient: *patient, FHIRUser: *fhirUser, TTL: *ttl,
		OrgName: *orgName, OrgAddress: *orgAddress,
	})
	if err != nil {
		return err
	}
	if os.IsNotExist(statErr) {
		// A mistyped --data makes a key no running serve trusts.
		abs, _ := filepath.Abs(*data)
		fmt.Fprintf(stderr, "ds4p token: made a new development signing key in %s; only `ds4p serve --dev-auth --data %s` trusts tokens signed with it\n", abs, *data)
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

// checkPurposes refuses a purpose that is neither a v3-PurposeOfUse code
// nor a TEFCA code the proxy maps to one: the proxy would read it as
// unknown and disclose no restricted data, which looks like a broken
// proxy to whoever tests with the token.
func checkPurposes(purposes []string) error {
	for _, p := range purposes {
		if labels.KnownPurpose(authn.NormalizePurpose(p)) {
			continue
		}
		hint := "."
		if s := labels.SuggestCode(labels.SystemActReason, p); s != "" {
			hint = fmt.Sprintf("; did you mean %q?", s)
		}
		return usagef("--purpose %q is not a v3-PurposeOfUse code (codes are case-sensitive)%s "+
			"A token stating it gets no restricted data; --any-purpose mints it anyway", p, hint)
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// breakGlassRules is the break_glass section of the policy data: what
// rego/ds4p/emergency.rego asks of a break-the-glass token.
type breakGlassRules struct {
	Purpose                 string   `json:"purpose"`          // must be stated
	AllowedPurposes         []string `json:"allowed_purposes"` // and nothing else
	MinReasonChars          int      `json:"min_reason_chars"` // of the trimmed reason
	MaxTokenLifetimeSeconds int64    `json:"max_token_lifetime_seconds"`
}

// defaultBreakGlassRules reads the break_glass section of the embedded
// default policy data (ds4p/config/data.json).
func defaultBreakGlassRules() (breakGlassRules, error) {
	raw, err := fs.ReadFile(rego.FS(), "ds4p/config/data.json")
	if err != nil {
		return breakGlassRules{}, err
	}
	var doc struct {
		BreakGlass *breakGlassRules `json:"break_glass"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return breakGlassRules{}, fmt.Errorf("ds4p/config/data.json: %w", err)
	}
	if doc.BreakGlass == nil || doc.BreakGlass.Purpose == "" {
		return breakGlassRules{}, fmt.Errorf("ds4p/config/data.json has no break_glass.purpose")
	}
	return *doc.BreakGlass, nil
}

// warnBreakGlass warns, on stderr, of each reason the proxy's default
// policy would not grant emergency access to a break-the-glass token with
// this reason, these purposes and this lifetime. The token is minted
// anyway: a tester may want one the policy refuses.
func warnBreakGlass(stderr io.Writer, reason string, purposes []string, ttl time.Duration) {
	rules, err := defaultBreakGlassRules()
	if err != nil {
		fmt.Fprintf(stderr, "ds4p token: warning: cannot check --break-glass against the default policy: %v\n", err)
		return
	}
	var why []string
	if limit := time.Duration(rules.MaxTokenLifetimeSeconds) * time.Second; ttl > limit {
		why = append(why, fmt.Sprintf("--ttl %s is longer than the %s a break-the-glass token may live (break_glass.max_token_lifetime_seconds: %d)",
			ttl, limit, rules.MaxTokenLifetimeSeconds))
	}
	var stated, others []string
	for _, p := range purposes {
		n := authn.NormalizePurpose(p)
		stated = append(stated, n)
		if !slices.Contains(rules.AllowedPurposes, n) {
			others = append(others, p)
		}
	}
	if !slices.Contains(stated, rules.Purpose) {
		why = append(why, fmt.Sprintf("--purpose does not state %s, the emergency purpose a break-the-glass token must state (break_glass.purpose)", rules.Purpose))
	}
	if len(others) > 0 {
		why = append(why, fmt.Sprintf("--purpose states %s besides the emergency purposes, and break-the-glass allows no other (break_glass.allowed_purposes: %s)",
			strings.Join(others, ", "), strings.Join(rules.AllowedPurposes, ", ")))
	}
	if n := utf8.RuneCountInString(strings.TrimSpace(reason)); n < rules.MinReasonChars {
		why = append(why, fmt.Sprintf("the --break-glass reason %q is shorter than %d characters (break_glass.min_reason_chars)",
			reason, rules.MinReasonChars))
	}
	for _, w := range why {
		fmt.Fprintf(stderr, "ds4p token: warning: %s: the proxy's default policy will not grant emergency access with this token (a deployment's own policy may differ)\n", w)
	}
}
