package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
)

// openPolicy loads the policy serve runs: the embedded default, or the
// policy directory (--policy-dir). A directory's policy must pass its own
// Rego tests and validate its policy data, at start and on every reload; it
// is watched for changes until ctx ends, and a change that fails is
// rejected while the previous revision keeps serving (reported by /readyz
// as check policy_reload, in the log and the ds4p.policy.loads metric).
func openPolicy(ctx context.Context, cfg Config, log *slog.Logger) (*policy.Engine, error) {
	if cfg.PolicyDir == "" {
		return policy.New(ctx, rego.FS(), policy.WithSource("embedded"), policy.WithLogger(log))
	}
	eng, err := policy.New(ctx, os.DirFS(cfg.PolicyDir),
		policy.WithVerify(true), policy.WithSource(cfg.PolicyDir), policy.WithLogger(log))
	if err != nil {
		return nil, err
	}
	go eng.WatchDir(ctx, cfg.PolicyDir, policy.DefaultReloadInterval)
	return eng, nil
}
