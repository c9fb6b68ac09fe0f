package main

import (
	"strings"
	"testing"
)

// TestConfigErrorsShowNoURLSecrets: a refused upstream, alias or JWKS URL
// is named without its password, user or query.
func TestConfigErrorsShowNoURLSecrets(t *testing.T) {
	t.Parallel()
	const secret = "pw9SECRET"
	for _, c := range []struct {
		args []string
		env  []string
		key  string
	}{
		{[]string{"--dev-auth", "--upstream", "ftp://admin:" + secret + "@ehr.example/fhir"}, nil, "upstream:"},
		{[]string{"--dev-auth", "--upstream", "ftp://ehr.example/fhir?api_key=" + secret}, nil, "upstream:"},
		{[]string{"--dev-auth", "--upstream", "http://u:" + secret + "@ehr example/%zz"}, nil, "upstream:"},
		{[]string{"--dev-auth", "--upstream-ca-file", "/etc/hosts"}, []string{"DS4P_UPSTREAM=http://" + secret + "@ehr.example/fhir"}, "upstream_ca_file:"},
		{[]string{"--dev-auth", "--upstream", "http://ehr.example/fhir"}, []string{"DS4P_UPSTREAM_ALIASES=ftp://u:" + secret + "@ehr.example/fhir"}, "upstream_aliases:"},
		{[]string{"--upstream", "http://ehr.example/fhir", "--jwks-url", "ftp://u:" + secret + "@idp.example/jwks"}, nil, "auth.jwks_url:"},
		{[]string{"--upstream", "http://ehr.example/fhir", "--jwks-url", "idp.example/jwks?token=" + secret}, nil, "auth.jwks_url:"},
		// A password holding "/" or "#" unescaped (QA round 22, area B):
		// the parser reads part of it as the port and the rest as path or
		// fragment; and a fragment of its own.
		{[]string{"--dev-auth", "--upstream", "ftp://admin:12/" + secret + "@ehr.example/fhir"}, nil, "upstream:"},
		{[]string{"--dev-auth", "--upstream", "ftp://admin:12#" + secret + "@ehr.example/fhir"}, nil, "upstream:"},
		{[]string{"--dev-auth", "--upstream", "ftp://ehr.example/fhir#" + secret}, nil, "upstream:"},
	} {
		_, err := loadConfig(c.args, c.env)
		if err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("%v %v: %v; want an error naming %s", c.args, c.env, err, c.key)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%v %v: the error shows the secret: %v", c.args, c.env, err)
		}
	}
	// A value that is not a URL but could hold no credentials is shown,
	// control characters quoted: the stray newline is what to fix.
	_, err := loadConfig([]string{"--dev-auth", "--upstream", "http://ehr.example/fhir\n"}, nil)
	if err == nil || !strings.Contains(err.Error(), `upstream: "http://ehr.example/fhir\n" is not an absolute http(s) URL`) {
		t.Errorf("a trailing newline: %v", err)
	}
}

// TestBundleSourceNameShowsNoCredentials: the policy bundle's URL, as
// /readyz, the status and the logs name it, carries none of the
// credentials a URL can hold, a password holding an unescaped "/" among
// them (the parser reads "u:12" as the host and the rest as the path).
func TestBundleSourceNameShowsNoCredentials(t *testing.T) {
	t.Parallel()
	const secret = "pw9SECRET"
	for _, raw := range []string{
		"https://u:" + secret + "@b.example/bundle.tar.gz",
		"https://b.example/bundle.tar.gz?token=" + secret,
		"https://u:12/" + secret + "@b.example/bundle.tar.gz",
		"https://b.example/bundle.tar.gz#" + secret,
	} {
		if got := bundleSourceName(raw); strings.Contains(got, secret) || !strings.HasPrefix(got, "bundle ") {
			t.Errorf("%s: %q", raw, got)
		}
	}
	if got := bundleSourceName("https://b.example/bundle.tar.gz"); got != "bundle https://b.example/bundle.tar.gz" {
		t.Errorf("a plain URL: %q", got)
	}
}
