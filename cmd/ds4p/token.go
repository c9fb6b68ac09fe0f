package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ds4p/ds4p/proxy/authn"
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
	data := fs.String("data", DefaultDataDir, "data directory holding the dev signing key")
	sub := fs.String("sub", "", "subject (the user), required")
	org := fs.String("org", "", "the caller's organisation, e.g. Organization/org-a")
	client := fs.String("client", "", "client id")
	purpose := fs.String("purpose", "", "purpose(s) of use, v3-ActReason codes, comma separated (e.g. TREAT)")
	scope := fs.String("scope", "", `space-separated scopes: SMART scopes for /fhir (e.g. "user/*.read", "patient/Observation.rs") and admin roles (ds4p/consent-manager, ds4p/policy-author, ds4p/auditor); none: the token reaches nothing but /fhir/metadata`)
	patient := fs.String("patient", "", "SMART patient context (a Patient id): the token reaches only that patient's compartment, and patient/ scopes apply")
	breakGlass := fs.String("break-glass", "", "break-the-glass reason (emergency access claim)")
	orgName := fs.String("org-name", "", "the recipient organisation's name, for the accounting of disclosures (claim org_name)")
	orgAddress := fs.String("org-address", "", "the recipient organisation's postal or electronic address (claim org_address)")
	ttl := fs.Duration("ttl", time.Hour, "lifetime of the token")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *sub == "" {
		return errors.New("--sub is required")
	}
	if *ttl <= 0 {
		// Not quietly an hour: a tester asking for an expired token would
		// get one that works. An expired one: --ttl 1s, then wait past
		// the accepted clock skew (auth.skew, --token-skew; 30 s by default).
		return fmt.Errorf("--ttl %s: want a positive lifetime such as 1h", *ttl)
	}
	tok, err := authn.MintDev(*data, authn.DevClaims{
		Subject: *sub, Org: *org, Client: *client, Purposes: splitList(*purpose),
		Scopes: strings.Fields(*scope), BreakGlass: *breakGlass, Patient: *patient, TTL: *ttl,
		OrgName: *orgName, OrgAddress: *orgAddress,
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
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
