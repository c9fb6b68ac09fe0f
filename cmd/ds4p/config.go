package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ds4p/ds4p/internal/urltext"
	"github.com/ds4p/ds4p/proxy"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"gopkg.in/yaml.v3"
)

// Config is the whole configuration of `ds4p serve`. Precedence, lowest
// first: defaults, the YAML file, DS4P_* environment variables, flags.
type Config struct {
	Listen                  string       `yaml:"listen"`
	Upstream                string       `yaml:"upstream"`
	UpstreamAliases         []string     `yaml:"upstream_aliases"` // the upstream's other bases (its public one)
	PublicBaseURL           string       `yaml:"public_base_url"`
	DataDir                 string       `yaml:"data_dir"`
	PolicyDir               string       `yaml:"policy_dir"`
	Policy                  PolicyConfig `yaml:"policy"` // OPA bundle source (policyreload.go)
	LogLevel                string       `yaml:"log_level"`
	Auth                    AuthConfig   `yaml:"auth"`
	Limits                  Limits       `yaml:"limits"`
	PassthroughContentTypes []string     `yaml:"passthrough_content_types"`
	Labels                  LabelsConfig `yaml:"labels"`
	Enforcement             Enforcement  `yaml:"enforcement"`
	TLS                     TLSConfig    `yaml:"tls"`                 // callers' TLS (stack.go)
	UpstreamCAFile          string       `yaml:"upstream_ca_file"`    // CA bundle for an https upstream
	UpstreamTokenFile       string       `yaml:"upstream_token_file"` // the bearer token ds4p presents to the upstream (proxy.TokenFile)
	Ledger                  LedgerConfig `yaml:"ledger"`              // retention and exports (auditcmd.go)
	Consents                ConsentsConf `yaml:"consents"`            // upstream consents, directory (consentcmd.go)
	Storage                 StorageConf  `yaml:"storage"`             // encryption at rest (keyscmd.go)
	// Rate limits, bulk-access alerts and the SIEM export (protection.go).
	Protection ProtectionConfig `yaml:"protection"`
	SIEM       SIEMConfig       `yaml:"siem"`
	// UpstreamAuth: ds4p obtains that token itself, with the OAuth client
	// credentials grant (proxy.ClientCredentials; stack.go).
	UpstreamAuth UpstreamAuthConfig `yaml:"upstream_auth"`
	// HeapFloorBytes keeps Go's collector from running until the heap
	// reaches about twice this plus twice the live heap (internal/heapfloor);
	// 0 turns it off, and a GOGC environment variable overrides it.
	HeapFloorBytes int64 `yaml:"heap_floor_bytes"`

	// fileKeys are the settings the config file set (dotted paths);
	// overrides the ones a DS4P_ variable then replaced ("upstream
	// (DS4P_UPSTREAM)"), which serve logs at start, names only.
	fileKeys  []string
	overrides []string
}

// AuthConfig says which tokens to trust and which claims say what.
type AuthConfig struct {
	JWKSURL  string        `yaml:"jwks_url"`
	KeyFile  string        `yaml:"key_file"`
	Issuer   string        `yaml:"issuer"`
	Audience string        `yaml:"audience"`
	Skew     time.Duration `yaml:"skew"`
	Dev      bool          `yaml:"dev"`
	// JWKSMinRefresh bounds refreshes forced by an unknown kid (default
	// 30s); JWKSMaxAge is how long a fetched JWKS is used (default 5m).
	JWKSMinRefresh time.Duration `yaml:"jwks_min_refresh"`
	JWKSMaxAge     time.Duration `yaml:"jwks_max_age"`
	// PurposeClaims are dotted claim paths read for purposes of use
	// (default: authn.DefaultPurposeClaims); the other three name
	// top-level claims (defaults org, org_identifiers, break_glass_reason).
	PurposeClaims       []string `yaml:"purpose_claims"`
	OrgClaim            string   `yaml:"org_claim"`
	OrgIdentifiersClaim string   `yaml:"org_identifiers_claim"`
	BreakGlassClaim     string   `yaml:"break_glass_claim"`
	// OrgNameClaim and OrgAddressClaim name the claims that give the
	// recipient's name and address for the accounting of disclosures
	// (defaults org_name, org_address); consents.directory entries fill
	// them in when the token does not.
	OrgNameClaim    string `yaml:"org_name_claim"`
	OrgAddressClaim string `yaml:"org_address_claim"`
	// ClientPurposes names, per client (client_id or azp), the purposes
	// of use its tokens may state (v3-PurposeOfUse codes); any other
	// purpose a named client states counts as unknown
	// (authn.Config.ClientPurposes). Clients not named are not limited.
	ClientPurposes map[string][]string `yaml:"client_purposes"`
	// SMARTConfiguration names a JSON file: the SMART App Launch discovery
	// document of the authorization server that issues the tokens above,
	// served without a token at <base>/.well-known/smart-configuration
	// (proxy.SMARTDocument says what it must hold; issuer and jwks_uri are
	// filled in from issuer and jwks_url when left out).
	SMARTConfiguration string `yaml:"smart_configuration"`
}

// UpstreamAuthConfig is ds4p's OAuth client to the upstream's token
// endpoint (SMART Backend Services, or client_secret_basic): exactly one
// of PrivateKeyFile (with KeyID) and ClientSecretFile.
type UpstreamAuthConfig struct {
	TokenURL         string `yaml:"token_url"`
	ClientID         string `yaml:"client_id"`
	Scope            string `yaml:"scope"`
	PrivateKeyFile   string `yaml:"private_key_file"`
	KeyID            string `yaml:"key_id"`
	ClientSecretFile string `yaml:"client_secret_file"`
}

// set tells whether any upstream_auth setting is given.
func (a UpstreamAuthConfig) set() bool { return a != UpstreamAuthConfig{} }

// credentials builds the client, its token requests sent by hc (nil: the
// default client).
func (a UpstreamAuthConfig) credentials(hc *http.Client) (*proxy.ClientCredentials, error) {
	return proxy.NewClientCredentials(proxy.ClientCredentialsConfig{
		TokenURL: a.TokenURL, ClientID: a.ClientID, Scope: a.Scope,
		PrivateKeyFile: a.PrivateKeyFile, KeyID: a.KeyID, ClientSecretFile: a.ClientSecretFile, HTTPClient: hc,
	})
}

// TLSConfig serves callers over HTTPS, optionally requiring a client
// certificate signed by ClientCAFile (mutual TLS).
type TLSConfig struct {
	CertFile          string `yaml:"cert_file"`
	KeyFile           string `yaml:"key_file"`
	ClientCAFile      string `yaml:"client_ca_file"`
	RequireClientCert bool   `yaml:"require_client_cert"`
}

// Enforcement tunes response-side enforcement.
type Enforcement struct {
	// Total is what happens to Bundle.total when anything was withheld:
	// decrement (default) or omit (proxy.Options.Total).
	Total string `yaml:"total"`
	// The request side (proxy.RequestRules, README "Searches the proxy
	// refuses or rewrites"): the page-link secret (default: paging.key in
	// the data directory, made on first start) and lifetime, and what
	// the proxy lets through that it refuses by default.
	PagingKeyFile     string        `yaml:"paging_key_file"`
	PagingTTL         time.Duration `yaml:"paging_ttl"`
	PagingRefillPages int           `yaml:"paging_refill_pages"`
	AllowSummaryCount bool          `yaml:"allow_summary_count"`
	AllowChains       bool          `yaml:"allow_chains"`
	AllowHas          bool          `yaml:"allow_has"`
	AllowExport       bool          `yaml:"allow_export"`
	AllowList         bool          `yaml:"allow_list"`
	AllowTextSearch   bool          `yaml:"allow_text_search"`
	// AllowSubscriptions lets callers create, change and read Subscriptions.
	AllowSubscriptions bool `yaml:"allow_subscriptions"`
	// AllowOperations names operations let through beside the built-in
	// ones, with or without the leading $ (proxy.RequestRules).
	AllowOperations []string `yaml:"allow_operations"`
	// SearchParams declares the search parameters the FHIR server defines
	// beyond FHIR R4's; a plain id in an undeclared one is refused
	// (proxy.RequestRules.SearchParams).
	SearchParams []proxy.SearchParam `yaml:"search_params"`
}

// Limits bound what one request may cost.
type Limits struct {
	MaxBodyBytes        int64         `yaml:"max_body_bytes"`
	MaxRequestBodyBytes int64         `yaml:"max_request_body_bytes"`
	UpstreamTimeout     time.Duration `yaml:"upstream_timeout"`
	// StreamAboveBytes: Bundles at least this large are streamed to the
	// caller (proxy.Options.StreamAboveBytes).
	StreamAboveBytes int `yaml:"stream_above_bytes"`
}

// Defaults of Config.
const (
	DefaultListen   = "127.0.0.1:8080"
	DefaultDataDir  = "data"
	DefaultLogLevel = "info"
	DefaultSkew     = 30 * time.Second
	// DefaultHeapFloorBytes: see README "Sizing a deployment" for what it
	// saves and costs.
	DefaultHeapFloorBytes = 32 << 20
	// MaxHeapFloorBytes refuses a floor the machine may not be able to
	// map at startup, where the allocation would be a fatal error.
	MaxHeapFloorBytes = 4 << 30
)

// offlineDataDir is the default of the offline commands' --data: serve's
// DS4P_DATA_DIR when it is set, as DS4P_STORAGE_* are read by them too,
// else DefaultDataDir. Where serve's environment gave the data directory
// (a container, a unit file's Environment=), ds4p consent import without
// --data made a new database in ./data and stored the consents there, a
// patient's deny included, reporting them accepted; serve never saw them.
func offlineDataDir() string {
	if d := os.Getenv("DS4P_DATA_DIR"); d != "" {
		return d
	}
	return DefaultDataDir
}

func defaultConfig() Config {
	return Config{
		Listen: DefaultListen, DataDir: DefaultDataDir, LogLevel: DefaultLogLevel,
		Auth: AuthConfig{Skew: DefaultSkew}, HeapFloorBytes: DefaultHeapFloorBytes,
		Limits: Limits{
			MaxBodyBytes:        proxy.DefaultMaxBodyBytes,
			MaxRequestBodyBytes: proxy.DefaultMaxRequestBodyBytes,
			UpstreamTimeout:     proxy.DefaultUpstreamTimeout,
			StreamAboveBytes:    proxy.DefaultStreamAboveBytes,
		},
		Ledger:     defaultLedgerConfig(),
		Protection: defaultProtection(), SIEM: defaultSIEM(), // protection.go
	}
}

// loadFile merges a YAML file into c; unknown keys are errors.
func (c *Config) loadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: reading %s: %w", path, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config: %s: %s", path, yamlProblems(b, err))
	}
	c.fileKeys = yamlLeafPaths(b)
	// One document: the settings after a '---' (a file joined from two, a
	// Kubernetes habit) would otherwise be ignored without a word.
	// An empty document (a trailing ---) sets nothing and is let be.
	for {
		var next yaml.Node
		err := dec.Decode(&next)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("config: %s: %s", path, yamlProblems(b, err))
		}
		if len(next.Content) == 0 || next.Content[0].Tag == "!!null" {
			continue
		}
		return fmt.Errorf("config: %s: line %d: a second YAML document (after ---): the configuration is one document; join them", path, next.Content[0].Line)
	}
}

// yamlTypeError and yamlUnknownField match yaml.v3's messages, which name
// Go types ("cannot unmarshal !!int `30` into time.Duration", "field upstrem
// not found in type main.Config").
var (
	yamlLine         = regexp.MustCompile(`^line (\d+): (.*)$`)
	yamlTypeError    = regexp.MustCompile("^cannot unmarshal !!(\\w+) `(.*)` into (\\S+)$")
	yamlUnknownField = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
)

// yamlProblems rewrites a YAML decoding error in the configuration's terms:
// each problem with its line, the setting's path and what it should be.
func yamlProblems(doc []byte, err error) string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return strings.TrimPrefix(err.Error(), "yaml: ")
	}
	out := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		m := yamlLine.FindStringSubmatch(e)
		if m == nil {
			out = append(out, e)
			continue
		}
		line, msg := m[1], m[2]
		n, _ := strconv.Atoi(line)
		where := "line " + line
		if key := yamlKeyAt(doc, n); key != "" {
			where += " (" + key + ")"
		}
		switch {
		case yamlUnknownField.MatchString(msg):
			msg = fmt.Sprintf("unknown setting %q", yamlUnknownField.FindStringSubmatch(msg)[1])
		case yamlTypeError.MatchString(msg):
			t := yamlTypeError.FindStringSubmatch(msg)
			msg = fmt.Sprintf("%s is not %s", t[2], goTypeWords(t[3]))
		}
		out = append(out, where+": "+msg)
	}
	return strings.Join(out, "; ")
}

// goTypeWords says what a value of a Go type is written as in the file.
func goTypeWords(goType string) string {
	switch {
	case goType == "time.Duration":
		return "a duration with a unit, such as 30s, 5m or 1h"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "int") || strings.HasPrefix(goType, "uint"):
		return "a whole number"
	case goType == "string":
		return "a string"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	}
	return "a mapping of settings"
}

// yamlKeyAt returns the dotted path of the setting on line n of doc, "" when
// none is found.
func yamlKeyAt(doc []byte, n int) string {
	var root yaml.Node
	if yaml.Unmarshal(doc, &root) != nil || len(root.Content) == 0 {
		return ""
	}
	var walk func(node *yaml.Node, path []string) string
	walk = func(node *yaml.Node, path []string) string {
		if node.Kind != yaml.MappingNode {
			return ""
		}
		for k := 0; k+1 < len(node.Content); k += 2 {
			key, val := node.Content[k], node.Content[k+1]
			p := append(slices.Clip(path), key.Value)
			if key.Line == n || val.Line == n && val.Kind == yaml.ScalarNode {
				return strings.Join(p, ".")
			}
			if found := walk(val, p); found != "" {
				return found
			}
		}
		return ""
	}
	return walk(root.Content[0], nil)
}

// envVars maps DS4P_* variables onto fields.
func (c *Config) envVars() map[string]func(string) error {
	return map[string]func(string) error{
		"DS4P_LISTEN":              setString(&c.Listen),
		"DS4P_UPSTREAM":            setString(&c.Upstream),
		"DS4P_PUBLIC_BASE_URL":     setString(&c.PublicBaseURL),
		"DS4P_UPSTREAM_ALIASES":    setList(&c.UpstreamAliases),
		"DS4P_DATA_DIR":            setString(&c.DataDir),
		"DS4P_POLICY_DIR":          setString(&c.PolicyDir),
		"DS4P_LOG_LEVEL":           setString(&c.LogLevel),
		"DS4P_JWKS_URL":            setString(&c.Auth.JWKSURL),
		"DS4P_KEY_FILE":            setString(&c.Auth.KeyFile),
		"DS4P_ISSUER":              setString(&c.Auth.Issuer),
		"DS4P_AUDIENCE":            setString(&c.Auth.Audience),
		"DS4P_SMART_CONFIGURATION": setString(&c.Auth.SMARTConfiguration),
		"DS4P_TOKEN_SKEW":          setDuration(&c.Auth.Skew),
		"DS4P_DEV_AUTH":            setBool(&c.Auth.Dev),
		"DS4P_TLS_CERT_FILE":       setString(&c.TLS.CertFile),
		"DS4P_TLS_KEY_FILE":        setString(&c.TLS.KeyFile),
		"DS4P_TLS_CLIENT_CA":       setString(&c.TLS.ClientCAFile),
		"DS4P_UPSTREAM_CA_FILE":    setString(&c.UpstreamCAFile),
		"DS4P_UPSTREAM_TOKEN_FILE": setString(&c.UpstreamTokenFile),
		"DS4P_MAX_BODY_BYTES":      setInt64(&c.Limits.MaxBodyBytes),
		"DS4P_UPSTREAM_TIMEOUT":    setDuration(&c.Limits.UpstreamTimeout),
		"DS4P_STREAM_ABOVE_BYTES":  setInt(&c.Limits.StreamAboveBytes),
		"DS4P_HEAP_FLOOR_BYTES":    setInt64(&c.HeapFloorBytes),
		"DS4P_LABEL_RULES_DIR":     setString(&c.Labels.RulesDir),

		// ds4p's OAuth client to the upstream (proxy.ClientCredentials)
		"DS4P_UPSTREAM_AUTH_TOKEN_URL":          setString(&c.UpstreamAuth.TokenURL),
		"DS4P_UPSTREAM_AUTH_CLIENT_ID":          setString(&c.UpstreamAuth.ClientID),
		"DS4P_UPSTREAM_AUTH_SCOPE":              setString(&c.UpstreamAuth.Scope),
		"DS4P_UPSTREAM_AUTH_PRIVATE_KEY_FILE":   setString(&c.UpstreamAuth.PrivateKeyFile),
		"DS4P_UPSTREAM_AUTH_KEY_ID":             setString(&c.UpstreamAuth.KeyID),
		"DS4P_UPSTREAM_AUTH_CLIENT_SECRET_FILE": setString(&c.UpstreamAuth.ClientSecretFile),

		"DS4P_LEDGER_RETENTION":     setString(&c.Ledger.Retention), // auditcmd.go
		"DS4P_LEDGER_EXPORT_DIR":    setString(&c.Ledger.ExportDir),
		"DS4P_LEDGER_JOURNAL_BYTES": setInt64(&c.Ledger.JournalBytes),

		// labelling (labelconfig.go)
		"DS4P_LABELS_UNKNOWN_TARGETS": setString(&c.Labels.UnknownTargets),
		"DS4P_LABELS_KNOWN_TTL":       setDuration(&c.Labels.KnownTTL),

		// response-side enforcement
		"DS4P_ENFORCEMENT_TOTAL":   setString(&c.Enforcement.Total),
		"DS4P_PAGING_TTL":          setDuration(&c.Enforcement.PagingTTL),
		"DS4P_PAGING_REFILL_PAGES": setInt(&c.Enforcement.PagingRefillPages),

		// The OPA bundle source (policyreload.go).
		"DS4P_POLICY_BUNDLE_URL":         setString(&c.Policy.BundleURL),
		"DS4P_POLICY_BUNDLE_POLL":        setDuration(&c.Policy.BundlePoll),
		"DS4P_POLICY_BUNDLE_PUBLIC_KEY":  setString(&c.Policy.BundlePublicKey),
		"DS4P_POLICY_BUNDLE_KEY_ID":      setString(&c.Policy.BundleKeyID),
		"DS4P_POLICY_BUNDLE_ALLOW_OLDER": setBool(&c.Policy.BundleAllowOlder),
		"DS4P_POLICY_EVALUATOR":          setString(&c.Policy.Evaluator),

		// mutual TLS for callers (stack.go)
		"DS4P_TLS_REQUIRE_CLIENT_CERT": setBool(&c.TLS.RequireClientCert),

		// where consents come from besides the store (consentcmd.go)
		"DS4P_CONSENTS_UPSTREAM":                  setString(&c.Consents.Upstream),
		"DS4P_CONSENTS_UPSTREAM_TTL":              setDuration(&c.Consents.UpstreamTTL),
		"DS4P_CONSENTS_SYNC_INTERVAL":             setDuration(&c.Consents.SyncInterval),
		"DS4P_CONSENTS_DIRECTORY":                 setString(&c.Consents.Directory),
		"DS4P_CONSENTS_RESOLVE_ACTORS":            setBool(&c.Consents.ResolveActors),
		"DS4P_CONSENTS_PATIENT_IDENTIFIER_SYSTEM": setString(&c.Consents.PatientIDSystem),
		"DS4P_CONSENTS_DATE_ZONE":                 setString(&c.Consents.DateZone),

		// encryption at rest (keyscmd.go)
		"DS4P_STORAGE_KEY":        setString(&c.Storage.Key),
		"DS4P_STORAGE_KEY_FILE":   setString(&c.Storage.KeyFile),
		"DS4P_STORAGE_ENCRYPTION": setString(&c.Storage.Encryption),

		// rate limits, bulk-access alerts, SIEM export (protection.go)
		"DS4P_RATE_LIMITS_ENABLED": setBool(&c.Protection.RateLimits.Enabled),
		"DS4P_BULK_ENABLED":        setBool(&c.Protection.Bulk.Enabled),
		"DS4P_BULK_BLOCK":          setBool(&c.Protection.Bulk.Block),
		"DS4P_SIEM_FILE":           setString(&c.SIEM.File),
		"DS4P_SIEM_PATIENT_IDS":    setString(&c.SIEM.PatientIDs),
	}
}

// applyEnv reads every DS4P_* variable set in env; an unknown DS4P_ name is
// an error, so that a typo never silently falls back to a default. So is a
// variable set to nothing: DS4P_ISSUER=${ISSUER} in a compose file or a
// Kubernetes manifest whose value went missing would otherwise clear the
// config file's issuer (tokens for any issuer accepted), TLS certificate
// (plain HTTP), policy directory or config file itself, without a word.
func (c *Config) applyEnv(env []string) error {
	setters := c.envVars()
	var errs []error
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "DS4P_") {
			continue
		}
		set, ok := setters[k]
		if !ok && k != "DS4P_CONFIG" {
			errs = append(errs, fmt.Errorf("environment: unknown variable %s", k))
			continue
		}
		if v == "" {
			errs = append(errs, fmt.Errorf("environment: %s is set but empty: unset it to keep the config file's value or the default, or give it a value", k))
			continue
		}
		if !ok {
			continue // DS4P_CONFIG, read by loadConfig
		}
		if err := set(v); err != nil {
			errs = append(errs, fmt.Errorf("environment: %s: %w", k, err))
		} else if p := envSettingPath(k); p != "" && slices.Contains(c.fileKeys, p) {
			c.overrides = append(c.overrides, p+" ("+k+")")
		}
	}
	return errors.Join(errs...)
}

// yamlLeafPaths are the dotted paths of the settings doc gives a value
// (a scalar or a list), nil when it does not parse.
func yamlLeafPaths(doc []byte) []string {
	var root yaml.Node
	if yaml.Unmarshal(doc, &root) != nil || len(root.Content) == 0 {
		return nil
	}
	var out []string
	var walk func(node *yaml.Node, path []string)
	walk = func(node *yaml.Node, path []string) {
		if node.Kind != yaml.MappingNode {
			if len(path) > 0 {
				out = append(out, strings.Join(path, "."))
			}
			return
		}
		for k := 0; k+1 < len(node.Content); k += 2 {
			walk(node.Content[k+1], append(slices.Clip(path), node.Content[k].Value))
		}
	}
	walk(root.Content[0], nil)
	return out
}

// envSettingPath is the dotted path of the setting the DS4P_ variable k
// sets, found by setting it on an empty Config and seeing which field
// changed; "" when none has a path in the file (storage.key).
func envSettingPath(k string) string {
	for _, probe := range []string{"1s", "true", "1"} {
		var c Config
		set, ok := c.envVars()[k]
		if !ok {
			return ""
		}
		if set(probe) != nil {
			continue
		}
		return changedPath(reflect.ValueOf(c), reflect.ValueOf(Config{}), nil)
	}
	return ""
}

// changedPath is the YAML path of the first exported field where a and b
// (structs of one type) differ.
func changedPath(a, b reflect.Value, path []string) string {
	if a.Kind() != reflect.Struct {
		if reflect.DeepEqual(a.Interface(), b.Interface()) {
			return ""
		}
		return strings.Join(path, ".")
	}
	for i := range a.NumField() {
		f := a.Type().Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if p := changedPath(a.Field(i), b.Field(i), append(slices.Clip(path), name)); p != "" {
			return p
		}
	}
	return ""
}

func setString(p *string) func(string) error { return func(v string) error { *p = v; return nil } }

// setList reads a comma-separated list.
func setList(p *[]string) func(string) error {
	return func(v string) error { *p = splitList(v); return nil }
}

func setBool(p *bool) func(string) error {
	return func(v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		*p = b
		return nil
	}
}

func setInt64(p *int64) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		*p = n
		return nil
	}
}

func setInt(p *int) func(string) error {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		*p = n
		return nil
	}
}

func setDuration(p *time.Duration) func(string) error {
	return func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration with a unit, such as 30s, 5m or 1h", v)
		}
		*p = d
		return nil
	}
}

// bindFlags registers the serve flags on fs; they are applied after the
// file and the environment, and only when given.
func (c *Config) bindFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Listen, "listen", c.Listen, "address to listen on, HOST:PORT")
	fs.StringVar(&c.Upstream, "upstream", c.Upstream, "base URL of the FHIR server to front, e.g. http://ehr:8080/fhir/R4")
	fs.StringVar(&c.PublicBaseURL, "public-base-url", c.PublicBaseURL, "the proxy's FHIR base as callers see it (default http://HOST/fhir from each request)")
	fs.StringVar(&c.DataDir, "data", c.DataDir, "data directory (bbolt store, dev signing key)")
	fs.StringVar(&c.PolicyDir, "policy-dir", c.PolicyDir, "directory of Rego policies and data (default: the embedded policy)")
	fs.StringVar(&c.Policy.BundleURL, "policy-bundle-url", c.Policy.BundleURL, "URL of an OPA policy bundle to serve and poll (instead of --policy-dir)")
	fs.StringVar(&c.Policy.BundlePublicKey, "policy-bundle-public-key", c.Policy.BundlePublicKey, "PEM public key file: bundles must be signed with its private key")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
	fs.StringVar(&c.Auth.JWKSURL, "jwks-url", c.Auth.JWKSURL, "URL of the token issuer's JWKS")
	fs.StringVar(&c.Auth.KeyFile, "key-file", c.Auth.KeyFile, "file with trusted public keys (JWK, JWK Set or PEM)")
	fs.StringVar(&c.Auth.Issuer, "issuer", c.Auth.Issuer, "required token issuer (iss)")
	fs.StringVar(&c.Auth.Audience, "audience", c.Auth.Audience, "required token audience (aud)")
	fs.BoolVar(&c.Auth.Dev, "dev-auth", c.Auth.Dev, "trust tokens minted by `ds4p token` for the same --data directory")
	fs.DurationVar(&c.Auth.Skew, "token-skew", c.Auth.Skew, "clock skew tolerated on exp, nbf and iat (0..5m)")
	fs.StringVar(&c.TLS.CertFile, "tls-cert", c.TLS.CertFile, "serve HTTPS with this certificate (PEM); needs --tls-key")
	fs.StringVar(&c.TLS.KeyFile, "tls-key", c.TLS.KeyFile, "private key (PEM) of --tls-cert")
	fs.StringVar(&c.TLS.ClientCAFile, "tls-client-ca", c.TLS.ClientCAFile, "CA bundle (PEM) that signs callers' client certificates (mutual TLS)")
	fs.BoolVar(&c.TLS.RequireClientCert, "tls-require-client-cert", c.TLS.RequireClientCert, "refuse connections without a client certificate signed by --tls-client-ca")
	fs.StringVar(&c.UpstreamCAFile, "upstream-ca-file", c.UpstreamCAFile, "CA bundle (PEM) trusted for an https upstream (default: the system roots)")
	fs.StringVar(&c.UpstreamTokenFile, "upstream-token-file", c.UpstreamTokenFile, "file holding the bearer token ds4p presents to the upstream (read again when it changes)")
	fs.StringVar(&c.Labels.RulesDir, "label-rules-dir", c.Labels.RulesDir, "directory of label rule files (*.yaml), reloaded on change (default: the embedded rules)")
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if _, port, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen: %q is not HOST:PORT", c.Listen))
	} else if _, err := net.LookupPort("tcp", port); err != nil {
		// Here, not when serve listens: after the data directory is made.
		errs = append(errs, fmt.Errorf("listen: %q: the port %q is not a port number (0..65535)", c.Listen, port))
	}
	upstreamOK := false
	if c.Upstream == "" {
		errs = append(errs, errors.New("upstream: required (--upstream, DS4P_UPSTREAM or upstream: in the config file)"))
	} else if u, err := url.Parse(c.Upstream); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		errs = append(errs, fmt.Errorf("upstream: %s is not an absolute http(s) URL", shownURL(c.Upstream)))
	} else {
		upstreamOK = true
		if u.Scheme == "http" && c.UpstreamCAFile != "" {
			errs = append(errs, fmt.Errorf("upstream_ca_file: set, but the upstream %s is plain http: the CA would not be used (an https upstream?)", shownURL(c.Upstream)))
		}
	}
	if c.UpstreamTokenFile != "" {
		if _, err := proxy.NewTokenFile(c.UpstreamTokenFile); err != nil {
			errs = append(errs, fmt.Errorf("upstream_token_file: %w", err))
		}
	}
	if c.UpstreamAuth.set() {
		if c.UpstreamTokenFile != "" {
			errs = append(errs, errors.New("upstream_auth and upstream_token_file: both set: ds4p either obtains its upstream token itself (upstream_auth) or reads it from a file, not both"))
		}
		if _, err := c.UpstreamAuth.credentials(nil); err != nil {
			errs = append(errs, fmt.Errorf("upstream_auth: %w", err))
		}
	}
	for _, a := range c.UpstreamAliases {
		if u, err := url.Parse(a); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			errs = append(errs, fmt.Errorf("upstream_aliases: %s is not an absolute http(s) URL", shownURL(a)))
		}
	}
	// Here, not only when the verifier is built: before the data directory
	// is made, and without the URL's password or query in the message.
	if a := c.Auth.JWKSURL; a != "" {
		if u, err := url.Parse(a); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			errs = append(errs, fmt.Errorf("auth.jwks_url: %s is not an absolute http(s) URL", shownURL(a)))
		}
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir: required"))
	}
	if c.Auth.JWKSURL == "" && c.Auth.KeyFile == "" && !c.Auth.Dev {
		errs = append(errs, errors.New("auth: no token keys configured: set jwks_url, key_file, or dev (--dev-auth) for development"))
	}
	if c.Auth.Skew < 0 || c.Auth.Skew > 5*time.Minute {
		errs = append(errs, fmt.Errorf("auth.skew: %v is outside 0..5m", c.Auth.Skew))
	}
	errs = append(errs, c.validateAuthTLS()...) // stack.go
	if c.Auth.SMARTConfiguration != "" {
		if _, err := c.Auth.smartDocument(); err != nil {
			errs = append(errs, fmt.Errorf("auth.smart_configuration: %w", err))
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log_level: %q is not debug, info, warn or error", c.LogLevel))
	}
	for _, l := range []struct {
		key      string
		positive bool
		value    any
	}{
		{"max_body_bytes", c.Limits.MaxBodyBytes > 0, c.Limits.MaxBodyBytes},
		{"max_request_body_bytes", c.Limits.MaxRequestBodyBytes > 0, c.Limits.MaxRequestBodyBytes},
		{"upstream_timeout", c.Limits.UpstreamTimeout > 0, c.Limits.UpstreamTimeout},
		{"stream_above_bytes", c.Limits.StreamAboveBytes > 0, c.Limits.StreamAboveBytes},
	} {
		if !l.positive {
			errs = append(errs, fmt.Errorf("limits.%s: %v must be positive", l.key, l.value))
		}
	}
	if c.HeapFloorBytes < 0 || c.HeapFloorBytes > MaxHeapFloorBytes {
		errs = append(errs, fmt.Errorf("heap_floor_bytes: %d is outside 0..%d (0 turns the floor off; the gain stops at about 32 MiB)", c.HeapFloorBytes, int64(MaxHeapFloorBytes)))
	}
	errs = append(errs, c.Labels.validate()...)
	errs = append(errs, c.Ledger.validate()...)  // auditcmd.go
	errs = append(errs, c.Storage.validate()...) // keyscmd.go
	errs = append(errs, c.Consents.validate()...)
	errs = append(errs, c.Protection.validate()...) // protection.go
	errs = append(errs, c.SIEM.validate()...)
	if c.PolicyDir != "" {
		if st, err := os.Stat(c.PolicyDir); err != nil || !st.IsDir() {
			errs = append(errs, fmt.Errorf("policy_dir: %q is not a directory", c.PolicyDir))
		}
	}
	errs = append(errs, c.Policy.validate(c.PolicyDir)...)
	if upstreamOK {
		// The proxy's own checks (upstream and public base URL forms,
		// enforcement, passthrough types ...) here too, with the rest, so
		// a bad setting is reported before the data directory is touched.
		if opts, err := c.proxyOptions(); err == nil {
			errs = appendNew(errs, opts.Validate())
		}
	}
	return errors.Join(errs...)
}

// smartDocument reads auth.smart_configuration and returns the document the
// proxy serves (proxy.SMARTDocument). It is read once, at start.
func (a AuthConfig) smartDocument() ([]byte, error) {
	// As the other start-up files (preflightFiles): a FIFO here held
	// serve in its open with no output (QA round 39, helper G).
	if err := notAFile(a.SMARTConfiguration); err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(a.SMARTConfiguration)
	if err != nil {
		return nil, fmt.Errorf("%s cannot be read: %w", a.SMARTConfiguration, errors.Unwrap(err))
	}
	doc, err := proxy.SMARTDocument(raw, a.Issuer, a.JWKSURL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.SMARTConfiguration, err)
	}
	return doc, nil
}

// checkKeyFile reads auth.key_file as the verifier does, and refuses one
// holding no key; serve calls it before the data directory is made. Only its
// existence was checked before the start: a key file that did not parse
// stopped serve after it had made the data directory, its database and a
// storage key, and an empty one (a JWK Set with no keys, a file a failed
// script left empty) started a proxy that refused every token while its
// /readyz passed.
func checkKeyFile(path string) error {
	if _, err := authn.NewVerifier(context.Background(), authn.Config{KeyFile: path, CacheSize: -1}); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "authn: "))
	}
	set, err := jwk.ReadFile(path)
	if err != nil {
		set, err = jwk.ReadFile(path, jwk.WithPEM(true))
	}
	if err == nil && set.Len() == 0 {
		return fmt.Errorf("%s holds no key: give the issuer's public keys (a JWK, JWK Set or PEM)", path)
	}
	// The verifier takes the public half of a private key, so the
	// issuer's signing key worked here unnoticed: whoever reads the
	// proxy's files could mint any caller's token. Refused, as
	// policy.bundle_public_key refuses the bundle signer's.
	for i := 0; err == nil && i < set.Len(); i++ {
		k, _ := set.Key(i)
		switch k.(type) {
		case jwk.RSAPrivateKey, jwk.ECDSAPrivateKey, jwk.OKPPrivateKey:
			return fmt.Errorf("%s holds a private key: give serve the issuer's public keys only (openssl pkey -in KEY -pubout, or a JWK without d), keep the signing key off the proxies", path)
		}
	}
	return nil
}

// shownURL is a configured URL as an error message may show it, quoted,
// under the rule every message follows (urltext.URL): without userinfo and
// fragment, its query withheld, and withheld whole where credentials could
// hide. A value that does not parse and could hold none (no @, ? or #) is
// shown as written: a stray newline from a mounted file is the usual cause,
// and what to fix.
func shownURL(s string) string {
	if _, err := url.Parse(s); err != nil && !strings.ContainsAny(s, "@?#") {
		return strconv.Quote(s)
	}
	return strconv.Quote(urltext.URL(s))
}

// appendNew appends the errors joined in err that errs does not already
// hold (by message).
func appendNew(errs []error, err error) []error {
	if err == nil {
		return errs
	}
	all := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		all = j.Unwrap()
	}
	for _, e := range all {
		if !slices.ContainsFunc(errs, func(have error) bool { return have.Error() == e.Error() }) {
			errs = append(errs, e)
		}
	}
	return errs
}

// loadConfig builds the serve configuration from file, environment and
// flags (args), in that order of precedence, and validates it.
func loadConfig(args []string, env []string) (Config, error) {
	c, err := buildConfig(args, env)
	if err != nil {
		return c, err
	}
	return c, c.Validate()
}

// buildConfig is loadConfig without the validation.
func buildConfig(args []string, env []string) (Config, error) {
	c := defaultConfig()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	envConfig := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "DS4P_CONFIG="); ok {
			envConfig = v
		}
	}
	configPath := fs.String("config", envConfig, "YAML configuration file")
	// First pass: only to find --config; the flag values are re-applied last.
	probe := c
	probe.bindFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return c, err
	}
	if err := noArgs(fs); err != nil {
		return c, err
	}
	if *configPath != "" {
		if err := c.loadFile(*configPath); err != nil {
			return c, err
		}
	}
	if err := c.applyEnv(env); err != nil {
		return c, err
	}
	final := flag.NewFlagSet("serve", flag.ContinueOnError)
	final.String("config", "", "")
	c.bindFlags(final)
	if err := parseFlags(final, args); err != nil {
		return c, err
	}
	return c, nil
}

func (c Config) proxyOptions() (proxy.Options, error) {
	u, err := url.Parse(c.Upstream)
	if err != nil {
		return proxy.Options{}, err
	}
	var aliases []*url.URL
	for _, a := range c.UpstreamAliases {
		au, err := url.Parse(a)
		if err != nil {
			return proxy.Options{}, err
		}
		aliases = append(aliases, au)
	}
	var smart []byte
	if c.Auth.SMARTConfiguration != "" {
		if smart, err = c.Auth.smartDocument(); err != nil {
			return proxy.Options{}, fmt.Errorf("auth.smart_configuration: %w", err)
		}
	}
	return proxy.Options{
		SMARTConfiguration:      smart,
		Upstream:                u,
		UpstreamAliases:         aliases,
		PublicBaseURL:           c.PublicBaseURL,
		MaxBodyBytes:            c.Limits.MaxBodyBytes,
		MaxRequestBodyBytes:     c.Limits.MaxRequestBodyBytes,
		UpstreamTimeout:         c.Limits.UpstreamTimeout,
		StreamAboveBytes:        c.Limits.StreamAboveBytes,
		NoEdgeTelemetry:         !telemetryOn(), // otel.go
		PassthroughContentTypes: c.PassthroughContentTypes,
		Total:                   c.Enforcement.Total,
		UnknownTargets:          c.Labels.UnknownTargets,
		Protection:              c.Protection.options(), // protection.go
		Requests: proxy.RequestRules{
			PagingTTL: c.Enforcement.PagingTTL, RefillPages: c.Enforcement.PagingRefillPages, AllowSummaryCount: c.Enforcement.AllowSummaryCount,
			AllowChains: c.Enforcement.AllowChains, AllowHas: c.Enforcement.AllowHas, AllowExport: c.Enforcement.AllowExport,
			AllowList: c.Enforcement.AllowList, AllowOperations: c.Enforcement.AllowOperations,
			AllowTextSearch: c.Enforcement.AllowTextSearch, AllowSubscriptions: c.Enforcement.AllowSubscriptions,
			SearchParams: c.Enforcement.SearchParams,
		},
	}, nil
}
