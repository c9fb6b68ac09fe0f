package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/ds4p/ds4p/internal/urltext"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
)

// PolicyConfig is the `policy:` section of the configuration: an OPA bundle
// served over HTTP, for fleets of proxies (instead of policy_dir).
type PolicyConfig struct {
	// BundleURL is the bundle to load at start and poll (http or https).
	BundleURL string `yaml:"bundle_url"`
	// BundlePoll is how often it is polled (default 30s).
	BundlePoll time.Duration `yaml:"bundle_poll"`
	// BundlePublicKey is a PEM public key file: when set, bundles must be
	// signed with its private key (OPA bundle signing, .signatures.json).
	// Its type chooses the algorithm: RSA RS256, EC P-256 ES256, P-384
	// ES384, P-521 ES512, Ed25519 EdDSA (bundleKeyTypes).
	BundlePublicKey string `yaml:"bundle_public_key"`
	// BundleKeyID is the key id the signature names (default "default").
	BundleKeyID string `yaml:"bundle_key_id"`
	// BundleAllowOlder loads a signed bundle built before the newest one
	// loaded (by default refused as a possible replay, policy.BundleHighWater).
	BundleAllowOlder bool `yaml:"bundle_allow_older"`
	// Evaluator is how decisions are evaluated: "ir" (the default:
	// interpreting OPA's plan of the policy) or "topdown" (OPA's own
	// evaluator), see policy.WithEvaluator.
	Evaluator string `yaml:"evaluator"`
}

// The defaults of bundle_key_id and bundle_poll (package policy applies
// them when the settings are empty).
const (
	defaultBundleKeyID = "default"
	defaultBundlePoll  = 30 * time.Second
)

func (p PolicyConfig) validate(policyDir string) []error {
	var errs []error
	switch p.Evaluator {
	case "", policy.EvaluatorIR, policy.EvaluatorTopdown:
	default:
		errs = append(errs, fmt.Errorf("policy: evaluator must be %q or %q, not %q", policy.EvaluatorIR, policy.EvaluatorTopdown, p.Evaluator))
	}
	if p.BundleURL == "" {
		// Their defaults written out configure nothing (the README's
		// reference configuration writes them so).
		if p.BundlePublicKey != "" || (p.BundleKeyID != "" && p.BundleKeyID != defaultBundleKeyID) ||
			(p.BundlePoll != 0 && p.BundlePoll != defaultBundlePoll) {
			errs = append(errs, errors.New("policy: bundle_public_key, bundle_key_id and bundle_poll need bundle_url"))
		}
		return errs
	}
	if policyDir != "" {
		errs = append(errs, errors.New("policy: bundle_url and policy_dir cannot both be set"))
	}
	if u, err := url.Parse(p.BundleURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, errors.New("policy: bundle_url must be an http or https URL"))
	}
	if p.BundlePoll < 0 {
		errs = append(errs, errors.New("policy: bundle_poll must be positive"))
	}
	if p.BundlePublicKey != "" {
		if _, err := os.Stat(p.BundlePublicKey); err != nil {
			errs = append(errs, fmt.Errorf("policy: bundle_public_key: %w", err))
		}
	}
	return errs
}

// openPolicy loads the policy serve runs: the embedded default, the policy
// directory (--policy-dir) or an OPA bundle (policy.bundle_url). A
// directory's or a bundle's policy must pass its own Rego tests and
// validate its policy data, at start and on every reload; it is watched
// for changes until ctx ends, and a change that fails (for a bundle also:
// a failed download or signature check) is rejected while the previous
// revision keeps serving (reported by /readyz as check policy_reload, in
// the log and the ds4p.policy.loads metric). The proxy does not start
// without its bundle: a fleet never falls back to another policy.
func openPolicy(ctx context.Context, cfg Config, log *slog.Logger, extra ...policy.Option) (*policy.Engine, error) {
	if cfg.Policy.Evaluator != "" {
		extra = append([]policy.Option{policy.WithEvaluator(cfg.Policy.Evaluator)}, extra...)
	}
	if cfg.Policy.BundleURL != "" {
		return openBundle(ctx, cfg.Policy, cfg.DataDir, log, extra...)
	}
	if cfg.PolicyDir == "" {
		return policy.New(ctx, rego.FS(), append([]policy.Option{policy.WithSource("embedded"), policy.WithLogger(log)}, extra...)...)
	}
	eng, err := policy.New(ctx, os.DirFS(cfg.PolicyDir), append([]policy.Option{
		policy.WithVerify(true), policy.WithSource(cfg.PolicyDir), policy.WithLogger(log)}, extra...)...)
	if err != nil {
		return nil, err
	}
	go eng.WatchDir(ctx, cfg.PolicyDir, policy.DefaultReloadInterval)
	return eng, nil
}

// bundleHighWaterFile is where serve keeps the build time of the newest
// signed bundle it has loaded, in the data directory.
const bundleHighWaterFile = "policy-bundle-built-at"

func openBundle(ctx context.Context, pc PolicyConfig, dataDir string, log *slog.Logger, extra ...policy.Option) (*policy.Engine, error) {
	src := &policy.BundleSource{URL: pc.BundleURL, Schemas: rego.FS()}
	if pc.BundlePublicKey != "" {
		raw, err := os.ReadFile(pc.BundlePublicKey)
		if err != nil {
			return nil, err
		}
		// The key's type chooses the algorithm, as in `ds4p policy build`.
		pem, alg, err := bundleVerifyKey(raw)
		if err != nil {
			return nil, fmt.Errorf("policy.bundle_public_key %s: %w", pc.BundlePublicKey, err)
		}
		if src.Verification, err = policy.NewBundleVerification(pem, pc.BundleKeyID, alg); err != nil {
			return nil, err
		}
		// A signed bundle older than the newest loaded is a possible
		// replay: refused, also after a restart. Allowed (a roll back),
		// the file follows the bundle in force, so that turning the
		// comparison on again compares with the bundle rolled back to.
		mark := "" // no data directory (tests): kept in memory
		if dataDir != "" {
			mark = filepath.Join(dataDir, bundleHighWaterFile)
		}
		if pc.BundleAllowOlder {
			src.Newest = policy.OpenBundleMarkFollowing(mark)
		} else if src.Newest, err = policy.OpenBundleHighWater(mark); err != nil {
			return nil, err
		}
	}
	if w := unsignedPlainBundle(pc); w != "" {
		log.Warn(w, "bundle", bundleSourceName(pc.BundleURL))
	}
	fsys, etag, err := policy.FetchBundle(ctx, src)
	if err != nil {
		return nil, err
	}
	eng, err := policy.New(ctx, fsys, append([]policy.Option{
		policy.WithVerify(true), policy.WithSource(bundleSourceName(pc.BundleURL)), policy.WithLogger(log)}, extra...)...)
	if err != nil {
		return nil, err
	}
	go eng.WatchBundle(ctx, src, etag, pc.BundlePoll)
	return eng, nil
}

// unsignedPlainBundle returns the warning serve logs at start when the
// bundle comes over plain http and no public key checks its signature:
// whoever can answer on the network path between the proxy and the bundle
// server can then replace the policy that decides disclosures. It is a
// warning rather than a refusal because such configurations were valid
// and documented (a bundle server on the same host or a private network),
// and a proxy that stops starting after an upgrade is an outage; https
// without a key trusts the server that TLS authenticates, as OPA does.
func unsignedPlainBundle(pc PolicyConfig) string {
	u, err := url.Parse(pc.BundleURL)
	if err != nil || u.Scheme != "http" || pc.BundlePublicKey != "" {
		return ""
	}
	return "policy bundle over plain http without policy.bundle_public_key: anyone on the network path to the bundle server can replace the policy; sign bundles (ds4p policy build --signing-key) and set bundle_public_key, or use https"
}

// bundleSourceName names a bundle URL for status and logs without its
// credentials or query (urltext.URL).
func bundleSourceName(raw string) string {
	return "bundle " + urltext.URL(raw)
}
