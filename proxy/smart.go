package proxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"
)

// SMART App Launch discovery (SMART App Launch 2.x, "Conformance"): an app
// pointed at the proxy's FHIR base reads <base>/.well-known/smart-configuration,
// without a token, to find where to get one. The tokens the proxy takes
// come from its own authorization server (auth.issuer, auth.jwks_url), not
// the upstream's, so the document is the organisation's, configured in
// auth.smart_configuration; the proxy never forwards the upstream's.

// smartConfigurationPath is the discovery document's path under the base.
const smartConfigurationPath = "/.well-known/smart-configuration"

// maxSMARTConfiguration bounds the configured document.
const maxSMARTConfiguration = 64 << 10

// oauthURIs is the extension the CapabilityStatement's rest.security
// names the endpoints in (SMART App Launch 1.0; 2.x keeps it for older
// clients).
const oauthURIs = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"

// SMARTDocument checks a SMART configuration document as an organisation
// writes it for its authorization server and returns it as the proxy
// serves it: issuer and jwks_uri are filled in from the proxy's own token
// settings when the document leaves them out, and must name the same when
// it gives them (an app would otherwise be sent to an issuer whose tokens
// the proxy refuses). Required, as the specification requires them:
// token_endpoint, grant_types_supported, capabilities and
// code_challenge_methods_supported (with S256, never plain);
// authorization_endpoint when a launch capability is claimed. Every
// endpoint is an absolute https URL (http only on a loopback host, for
// development), issuer and jwks_uri too; both are required with
// sso-openid-connect.
func SMARTDocument(raw []byte, issuer, jwksURL string) ([]byte, error) {
	if len(raw) > maxSMARTConfiguration {
		return nil, fmt.Errorf("the document is larger than %d KiB", maxSMARTConfiguration>>10)
	}
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil || dec.More() || doc == nil {
		return nil, errors.New("the document is not one JSON object")
	}
	var errs []error
	str := func(k string, required bool) string {
		v, ok := doc[k]
		if !ok {
			if required {
				errs = append(errs, fmt.Errorf("%s is required", k))
			}
			return ""
		}
		s, ok := v.(string)
		if !ok || s == "" {
			errs = append(errs, fmt.Errorf("%s must be a non-empty string", k))
		}
		return s
	}
	list := func(k string, required bool) []string {
		v, ok := doc[k]
		if !ok {
			if required {
				errs = append(errs, fmt.Errorf("%s is required", k))
			}
			return nil
		}
		a, ok := v.([]any)
		if !ok || (required && len(a) == 0) {
			errs = append(errs, fmt.Errorf("%s must be a non-empty array of strings", k))
			return nil
		}
		out := make([]string, 0, len(a))
		for _, x := range a {
			s, ok := x.(string)
			if !ok || s == "" {
				errs = append(errs, fmt.Errorf("%s must hold only non-empty strings", k))
				return nil
			}
			out = append(out, s)
		}
		return out
	}
	endpoint := func(k string, required bool) {
		if s := str(k, required); s != "" {
			if err := endpointURL(s); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", k, err))
			}
		}
	}
	caps := list("capabilities", true)
	list("grant_types_supported", true)
	methods := list("code_challenge_methods_supported", true)
	if methods != nil && !slices.Contains(methods, "S256") {
		errs = append(errs, errors.New("code_challenge_methods_supported must include S256"))
	}
	if slices.Contains(methods, "plain") {
		errs = append(errs, errors.New("code_challenge_methods_supported must not include plain (SMART App Launch forbids it)"))
	}
	endpoint("token_endpoint", true)
	endpoint("authorization_endpoint", slices.Contains(caps, "launch-ehr") || slices.Contains(caps, "launch-standalone"))
	for _, k := range []string{"registration_endpoint", "management_endpoint", "introspection_endpoint", "revocation_endpoint", "user_access_brand_bundle"} {
		endpoint(k, false)
	}
	for _, k := range []string{"scopes_supported", "response_types_supported", "token_endpoint_auth_methods_supported", "token_endpoint_auth_signing_alg_values_supported"} {
		list(k, false)
	}
	for _, f := range []struct{ key, ours, setting string }{
		{"issuer", issuer, "auth.issuer"},
		{"jwks_uri", jwksURL, "auth.jwks_url"},
	} {
		if _, ok := doc[f.key]; !ok {
			if f.ours != "" {
				doc[f.key] = f.ours
			}
			continue
		}
		if s := str(f.key, false); s != "" && f.ours != "" && s != f.ours {
			errs = append(errs, fmt.Errorf("%s %q is not %s %q: the proxy takes only the tokens %s names", f.key, s, f.setting, f.ours, f.setting))
		}
	}
	if slices.Contains(caps, "sso-openid-connect") {
		// An app that signs users in checks the id_token against these.
		for _, k := range []string{"issuer", "jwks_uri"} {
			if _, ok := doc[k]; !ok {
				errs = append(errs, fmt.Errorf("%s is required with sso-openid-connect (or set %s)", k, map[string]string{"issuer": "auth.issuer", "jwks_uri": "auth.jwks_url"}[k]))
			}
		}
	}
	for _, k := range []string{"issuer", "jwks_uri"} {
		if v, ok := doc[k].(string); ok && v != "" {
			if err := endpointURL(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", k, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return json.Marshal(doc)
}

// endpointURL refuses an endpoint an app must not be sent to: not absolute,
// not https (but on a loopback host), or carrying credentials or a fragment.
func endpointURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return fmt.Errorf("%q is not an absolute URL", s)
	case u.User != nil || u.Fragment != "":
		return errors.New("the URL carries credentials or a fragment")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && loopbackHost(u.Hostname()): // upstream_oauth.go
		return nil
	}
	return fmt.Errorf("%q is not https (http is taken only on a loopback host)", s)
}

// smartDiscovery answers <base>/.well-known/smart-configuration before
// authentication, which the specification requires; every other path goes
// on to the token check. Without a configured document the answer is a
// 404 that says so: an app then knows this base offers no SMART launch.
func (s *Server) smartDiscovery(c *gin.Context) {
	if c.Param("path") != smartConfigurationPath {
		return
	}
	c.Abort()
	w := c.Writer
	// A public document: browser apps on any origin read it (CORS), with
	// no credentials, so nothing else is allowed across origins.
	w.Header().Set("Access-Control-Allow-Origin", "*")
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead:
	case http.MethodOptions:
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		w.Header().Set("Access-Control-Allow-Methods", "GET, HEAD")
		w.Header().Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		writeOutcome(w, http.StatusMethodNotAllowed, "not-supported", "the SMART configuration is read with GET")
		return
	}
	doc := s.opts.SMARTConfiguration
	if len(doc) == 0 {
		writeOutcome(w, http.StatusNotFound, "not-found", "this proxy has no SMART configuration (auth.smart_configuration is not set)")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(doc)))
	h.Set("Cache-Control", "max-age=300")
	w.WriteHeader(http.StatusOK)
	if c.Request.Method != http.MethodHead {
		_, _ = w.Write(doc)
	}
}

// smartSecurity is rest.security as the proxy's CapabilityStatement states
// it when a SMART configuration is set: the upstream's names the upstream's
// authorization server, whose tokens the proxy does not take.
func smartSecurity(doc []byte) map[string]any {
	var d map[string]any
	if json.Unmarshal(doc, &d) != nil {
		return nil
	}
	var ext []any
	for _, e := range []struct{ name, key string }{
		{"authorize", "authorization_endpoint"},
		{"token", "token_endpoint"},
		{"register", "registration_endpoint"},
		{"manage", "management_endpoint"},
		{"introspect", "introspection_endpoint"},
		{"revoke", "revocation_endpoint"},
	} {
		if v, ok := d[e.key].(string); ok {
			ext = append(ext, map[string]any{"url": e.name, "valueUri": v})
		}
	}
	return map[string]any{
		"extension": []any{map[string]any{"url": oauthURIs, "extension": ext}},
		"service": []any{map[string]any{"coding": []any{map[string]any{
			"system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
			"code":   "SMART-on-FHIR",
		}}}},
		"description": "OAuth 2.0 bearer tokens under SMART App Launch; see " + smartConfigurationPath[1:] + " under this base",
	}
}
