package bench

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/internal/synth"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/rego"
	"go.etcd.io/bbolt"
)

// BenchmarkReadEdge is BenchmarkPipeline's full/permissive/read with the
// edge as `ds4p serve` sets it up, against the benchmark's own edge:
//
//   - telemetry+discard: the OpenTelemetry middleware on (without an
//     exporter) and the access log discarded, as BenchmarkPipeline runs;
//   - serve: no edge telemetry (serve leaves the middleware out when it
//     exports nothing, cmd/ds4p/otel.go) and the access log written as
//     JSON lines to a file (/dev/null here: one write per request, as to
//     serve's stderr);
//   - serve+telemetry: the middleware on and the JSON access log.
//
// The difference between the first two is what the in-process figure
// counts that a server without telemetry does not, and the other way round.
func BenchmarkReadEdge(b *testing.B) {
	up := newPipeUpstream(b)
	read := up.shapes[0]
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = devnull.Close() })
	jsonLog := slog.New(slog.NewJSONHandler(devnull, &slog.HandlerOptions{Level: slog.LevelInfo}))
	for _, v := range []struct {
		name        string
		noTelemetry bool
		log         *slog.Logger
	}{
		{"telemetry+discard", false, nil},
		{"serve", true, jsonLog},
		{"serve+telemetry", false, jsonLog},
	} {
		px := newEdgeProxy(b, up, v.noTelemetry, v.log)
		b.Run(v.name, func(b *testing.B) { benchProxied(b, px, px.tokens["permissive"], read) })
	}
}

// newEdgeProxy is newPipeProxy's "full" variant (engine, fsynced ledger)
// with the edge's telemetry and logger chosen.
func newEdgeProxy(tb testing.TB, up *pipeUpstream, noTelemetry bool, log *slog.Logger) *pipeProxy {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	db, err := bbolt.Open(filepath.Join(dir, "ds4p.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	db.MaxBatchDelay = time.Millisecond
	tb.Cleanup(func() { _ = db.Close() })
	cs, err := consent.Open(db)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := cs.Put(ctx, part2Consent(synth.PatientRef(0), pipeOrg)); err != nil {
		tb.Fatal(err)
	}
	led, err := audit.Open(db)
	if err != nil {
		tb.Fatal(err)
	}
	eng, err := policy.New(ctx, rego.FS())
	if err != nil {
		tb.Fatal(err)
	}
	evals := &countingDecider{Decider: eng}
	px := &pipeProxy{tokens: map[string]string{}, evals: evals, calls: evals}
	for _, cl := range pipeCallers {
		if px.tokens[cl.name], err = authn.MintDev(dir, cl.claims); err != nil {
			tb.Fatal(err)
		}
	}
	keys, err := authn.DevPublicKeys(dir)
	if err != nil {
		tb.Fatal(err)
	}
	ver, err := authn.NewVerifier(ctx, authn.Config{DevKeys: keys, Issuer: authn.DevIssuer, Audience: authn.DevAudience})
	if err != nil {
		tb.Fatal(err)
	}
	u, _ := url.Parse(up.base)
	srv, err := proxy.New(proxy.Options{Upstream: u, NoEdgeTelemetry: noTelemetry}, proxy.Deps{
		Labeller: servedLabeller(), Decider: evals, Consents: cs, Ledger: led, Auth: ver, Logger: log,
	})
	if err != nil {
		tb.Fatal(err)
	}
	px.handler = srv.Handler()
	return px
}
