package proxy

import (
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strings"
	"time"
)

// Defaults of Options.
const (
	DefaultMaxBodyBytes        = 64 << 20
	DefaultMaxRequestBodyBytes = 16 << 20
	DefaultUpstreamTimeout     = 30 * time.Second
	DefaultMaxIdleConns        = 128
	DefaultMaxJSONDepth        = 128
	DefaultStreamAboveBytes    = 256 << 10
)

// Options configure the proxy. The zero value of each field means its
// Default constant.
type Options struct {
	// Upstream is the base URL of the FHIR server, e.g. http://ehr:8080/fhir/R4.
	Upstream *url.URL
	// UpstreamAliases are other base URLs under which the upstream names
	// its own resources: its public base (https://ehr.example.org/fhir/R4)
	// when ds4p reaches it at an internal one (http://ehr.internal:8080/fhir/R4).
	// Links, fullUrls, Location headers and attachment URLs under an alias
	// are rewritten to the proxy as the upstream base's are (links under no
	// base are dropped, which breaks paging), and references under one are
	// read and checked as local: an unknown target is read for its labels,
	// a write's target is checked for the caller.
	UpstreamAliases []*url.URL
	// PublicBaseURL is the proxy's FHIR base as callers see it; empty derives
	// it from each request's Host as http://HOST/fhir.
	PublicBaseURL string
	// SMARTConfiguration is the SMART App Launch discovery document served
	// without a token at <base>/.well-known/smart-configuration and stated
	// in the CapabilityStatement's rest.security (smart.go; build it with
	// SMARTDocument). Empty: that path answers 404 and the upstream's
	// rest.security is passed on as it is.
	SMARTConfiguration []byte
	// MaxBodyBytes caps an upstream response body (decoded); over it the
	// response is withheld with 502.
	MaxBodyBytes int64
	// MaxRequestBodyBytes caps a caller's request body; over it: 413.
	MaxRequestBodyBytes int64
	// UpstreamTimeout bounds one upstream exchange, body included.
	UpstreamTimeout time.Duration
	// MaxIdleConns bounds idle upstream connections kept for reuse.
	MaxIdleConns int
	// MaxJSONDepth bounds nesting of upstream JSON.
	MaxJSONDepth int
	// StreamAboveBytes: a Bundle whose upstream body is at least this
	// large is rendered to the caller as it is sent, after a first
	// rendering checked it and the ledger recorded it, instead of into a
	// buffer of its own beside the body (stream.go): the response then
	// holds about half the memory, for about 6 % more CPU. 1 streams every
	// Bundle.
	StreamAboveBytes int
	// NoEdgeTelemetry leaves out the edge's OpenTelemetry middleware
	// (otelgin and the URL hiding around it) for a process that exports
	// neither traces nor metrics, where it computed span and metric
	// attributes for nothing: ~3 % of a read's CPU. The pipeline's own
	// spans stay (no-ops without a tracer provider).
	NoEdgeTelemetry bool
	// PassthroughContentTypes lists non-JSON media types (e.g. "text/plain")
	// that may pass uninspected. Empty: none does.
	PassthroughContentTypes []string
	// Requests is the request-side enforcement: paging tokens, refused and
	// rewritten searches, writes, bulk export (paging.go, searchguard.go,
	// writeguard.go).
	Requests RequestRules
	// Total says what happens to Bundle.total when anything was withheld:
	// TotalDecrement (the default, "") lowers it by the matches withheld,
	// on a Bundle that is one complete page, so that a withheld match
	// reads as no match; TotalOmit removes it, which tells no count but
	// does tell that something was withheld.
	Total string
	// UpstreamTLS configures TLS to an https upstream (e.g. a private CA);
	// nil uses the system roots.
	UpstreamTLS *tls.Config
	// UpstreamCredentials, when set, gives the bearer token every request
	// to the upstream carries (upstream_auth.go); nil sends none.
	UpstreamCredentials UpstreamCredentials
	// UnknownTargets says what labelling does about a propagating
	// reference (reasonReference, encounter ...) to a resource neither the
	// response nor the label cache knows: TargetsFetch (the default, "")
	// reads it from the upstream first, TargetsIgnore labels without it
	// (label_targets.go).
	UnknownTargets string
	// Protection is the per-caller rate limits and bulk-access detection
	// (ratelimit.go, bulk.go); each is off unless Enabled (the binary's
	// configuration enables both by default).
	Protection Protection
}

// Values of Options.Total (config enforcement.total).
const (
	TotalOmit      = "omit"
	TotalDecrement = "decrement"
)

func (o Options) withDefaults() Options {
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxRequestBodyBytes == 0 {
		o.MaxRequestBodyBytes = DefaultMaxRequestBodyBytes
	}
	if o.UpstreamTimeout == 0 {
		o.UpstreamTimeout = DefaultUpstreamTimeout
	}
	if o.MaxIdleConns == 0 {
		o.MaxIdleConns = DefaultMaxIdleConns
	}
	if o.MaxJSONDepth == 0 {
		o.MaxJSONDepth = DefaultMaxJSONDepth
	}
	if o.StreamAboveBytes == 0 {
		o.StreamAboveBytes = DefaultStreamAboveBytes
	}
	o.Requests = o.Requests.withDefaults()
	o.Protection = o.Protection.withDefaults()
	return o
}

// Validate reports every problem with o at once.
func (o Options) Validate() error {
	var errs []error
	if o.Upstream == nil || o.Upstream.Host == "" {
		errs = append(errs, errors.New("upstream: an absolute http(s) URL is required"))
	} else if o.Upstream.Scheme != "http" && o.Upstream.Scheme != "https" {
		errs = append(errs, fmt.Errorf("upstream: scheme %q is not http or https", o.Upstream.Scheme))
	} else if err := baseOnly(o.Upstream); err != nil {
		// A query or fragment would be glued into every URL the proxy
		// builds on the base, and the proxy would no longer recognise
		// the upstream's own links (fullUrl, paging) to rewrite them.
		errs = append(errs, fmt.Errorf("upstream: %w", err))
	}
	for _, a := range o.UpstreamAliases {
		switch {
		case a == nil || a.Host == "":
			errs = append(errs, errors.New("upstream_aliases: each alias must be an absolute http(s) URL"))
		case a.Scheme != "http" && a.Scheme != "https":
			errs = append(errs, fmt.Errorf("upstream_aliases: %s: scheme %q is not http or https", a.Redacted(), a.Scheme))
		default:
			if err := baseOnly(a); err != nil {
				errs = append(errs, fmt.Errorf("upstream_aliases: %s: %w", a.Redacted(), err))
			}
		}
	}
	if o.PublicBaseURL != "" {
		u, err := url.Parse(o.PublicBaseURL)
		switch {
		case err != nil || u.Host == "":
			errs = append(errs, fmt.Errorf("public_base_url: %q is not an absolute URL", o.PublicBaseURL))
		case u.Scheme != "http" && u.Scheme != "https":
			errs = append(errs, fmt.Errorf("public_base_url: scheme %q is not http or https", u.Scheme))
		default:
			if err := baseOnly(u); err != nil {
				errs = append(errs, fmt.Errorf("public_base_url: %w", err))
			}
		}
	}
	if o.MaxBodyBytes < 0 || o.MaxRequestBodyBytes < 0 || o.UpstreamTimeout < 0 || o.MaxJSONDepth < 0 || o.StreamAboveBytes < 0 {
		errs = append(errs, errors.New("limits must not be negative"))
	}
	switch o.UnknownTargets {
	case "", TargetsFetch, TargetsIgnore:
	default:
		errs = append(errs, fmt.Errorf("labels.unknown_targets: %q is not %s or %s", o.UnknownTargets, TargetsFetch, TargetsIgnore))
	}
	for _, ct := range o.PassthroughContentTypes {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || !strings.Contains(mt, "/") {
			errs = append(errs, fmt.Errorf("passthrough_content_types: %q is not a media type such as image/png", ct))
			continue
		}
		if strings.Contains(ct, "json") || strings.Contains(ct, "xml") {
			errs = append(errs, fmt.Errorf("passthrough_content_types: %q must be inspected, it cannot pass through", ct))
		}
	}
	if o.Total != "" && o.Total != TotalOmit && o.Total != TotalDecrement {
		errs = append(errs, fmt.Errorf("enforcement.total: %q is not omit or decrement", o.Total))
	}
	if len(o.SMARTConfiguration) > 0 {
		if _, err := SMARTDocument(o.SMARTConfiguration, "", ""); err != nil {
			errs = append(errs, fmt.Errorf("auth.smart_configuration: %w", err))
		}
	}
	errs = append(errs, o.Requests.validate()...)
	errs = append(errs, o.Protection.validate()...)
	return errors.Join(errs...)
}

// baseOnly refuses what a FHIR base URL cannot carry: a query, a fragment
// or credentials (which would also be printed wherever the URL is shown).
func baseOnly(u *url.URL) error {
	switch {
	case u.User != nil:
		return errors.New("the URL carries credentials (user:password@), which forwarded requests would not send and the log would show")
	case u.RawQuery != "" || u.ForceQuery:
		return errors.New("the URL has a query (?...): a FHIR base has none") // not shown: it can hold an API key
	case u.Fragment != "" || strings.Contains(u.String(), "#"):
		return errors.New("the URL has a fragment (#...): a FHIR base has none")
	}
	return nil
}
