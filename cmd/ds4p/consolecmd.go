package main

import (
	"context"
	"io/fs"
	"log/slog"
	"os"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/console"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/rego"
)

// mountConsole serves the web console at /console of the proxy, with the
// proxy's token verifier, admin API, ledger and label rules.
func (st *stack) mountConsole(ctx context.Context, cfg Config, v *authn.Verifier, l *labels.Labeller, log *slog.Logger) error {
	reviews, err := audit.OpenReviews(st.db, reviewSealing(st.sealer)...)
	if err != nil {
		return err
	}
	c, err := console.New(ctx, console.Config{
		Verifier: v, Admin: st.server.Handler(), Ledger: st.ledger, Reviews: reviews,
		PolicyFS: policyFS(cfg), Rules: l.Rules, Logger: log, Blocked: st.server.Blocked,
		SecurityEvent: st.server.SecurityEvent, // refused sign-ins, as the edge's refused tokens
		// Behind a load balancer that ends TLS, browsers' Origin is the
		// public https one, not what the connection says.
		PublicOrigin: cfg.PublicBaseURL,
		// A token /admin counts as a patient's is refused at sign-in too,
		// its fhirUser judged against the bases the edge knows.
		PatientSide: st.server.PatientSide,
		OrgBase:     st.server.OrgBase,
		// The calls the console answers itself take the admin rate limit.
		AdminLimit: st.server.AllowAdmin,
	})
	if err != nil {
		return err
	}
	st.server.Mount("/console", c)
	return nil
}

// policyFS is the policy tree whose Rego tests the console runs: the
// directory, or the embedded policy; nil for a bundle.
func policyFS(cfg Config) func() fs.FS {
	switch {
	case cfg.Policy.BundleURL != "":
		return nil
	case cfg.PolicyDir != "":
		return func() fs.FS { return os.DirFS(cfg.PolicyDir) }
	}
	return func() fs.FS { return rego.FS() }
}
