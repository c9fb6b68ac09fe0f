package main

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestTokenWarnsOfBreakGlassThePolicyRefuses: `ds4p token --break-glass`
// still mints a token the default policy would refuse emergency access
// (exit 0, the token on stdout), but says on stderr why, for each reason:
// a lifetime over break_glass.max_token_lifetime_seconds, no ETREAT or a
// purpose outside break_glass.allowed_purposes, a reason shorter than
// break_glass.min_reason_chars; a token the policy accepts gets no warning.
func TestTokenWarnsOfBreakGlassThePolicyRefuses(t *testing.T) {
	t.Parallel()
	rules, err := defaultBreakGlassRules()
	if err != nil {
		t.Fatal(err)
	}
	if rules.Purpose != "ETREAT" || !slices.Contains(rules.AllowedPurposes, "ETREAT") || rules.MinReasonChars != 4 || rules.MaxTokenLifetimeSeconds != 3600 {
		t.Fatalf("break_glass rules read from the embedded policy data = %+v; want those of rego/ds4p/config/data.json", rules)
	}
	data := t.TempDir()
	// The signing key first, so that its one-time notice is not counted.
	if code, _, errOut := ds4p(t, "token", "--data", data, "--sub", "s"); code != 0 {
		t.Fatalf("first token: %d %s", code, errOut)
	}
	const warning = "the proxy's default policy will not grant emergency access with this token (a deployment's own policy may differ)"
	for _, c := range []struct {
		args []string
		n    int      // warnings, one a line
		want []string // in the warnings
	}{
		{[]string{"--break-glass", "chest pain", "--purpose", "ETREAT"}, 0, nil},
		{[]string{"--break-glass", "chest pain", "--purpose", "ETREAT,BTG", "--ttl", "1h"}, 0, nil},
		{[]string{"--break-glass", "déjà", "--purpose", "ETREAT", "--ttl", "15m"}, 0, nil}, // 4 characters, 6 bytes
		{[]string{"--break-glass", "chest pain", "--purpose", "ETREAT", "--ttl", "2h"}, 1, []string{"--ttl 2h0m0s is longer than the 1h0m0s", "max_token_lifetime_seconds: 3600"}},
		{[]string{"--break-glass", "chest pain", "--ttl", "3601s", "--purpose", "ETREAT"}, 1, []string{"--ttl 1h0m1s is longer"}},
		{[]string{"--break-glass", "chest pain"}, 1, []string{"--purpose does not state ETREAT"}},
		{[]string{"--break-glass", "chest pain", "--purpose", "TREAT"}, 2, []string{"--purpose does not state ETREAT", "--purpose states TREAT besides the emergency purposes"}},
		{[]string{"--break-glass", "chest pain", "--purpose", "ETREAT,TREAT"}, 1, []string{"--purpose states TREAT besides the emergency purposes", "allowed_purposes: ETREAT, BTG"}},
		{[]string{"--break-glass", "chest pain", "--purpose", "ETREAT,T-TREAT"}, 1, []string{"--purpose states T-TREAT besides"}}, // TEFCA, read as TREAT
		{[]string{"--break-glass", "  ab  ", "--purpose", "ETREAT"}, 1, []string{`reason "  ab  " is shorter than 4 characters (break_glass.min_reason_chars)`}},
		{[]string{"--break-glass", "ab", "--purpose", "TREAT", "--ttl", "4h"}, 4, []string{"--ttl 4h0m0s", "does not state ETREAT", "states TREAT", `reason "ab"`}},
		{[]string{"--purpose", "TREAT", "--ttl", "4h"}, 0, nil}, // no break-glass claim: nothing to warn of
	} {
		args := append([]string{"token", "--data", data, "--sub", "s"}, c.args...)
		code, out, errOut := ds4p(t, args...)
		if code != 0 || strings.Count(out, ".") != 2 {
			t.Errorf("ds4p %v = exit %d, stdout %q, stderr %q; want 0 and a token", args, code, out, errOut)
			continue
		}
		var lines []string
		if errOut != "" {
			lines = strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
		}
		if len(lines) != c.n {
			t.Errorf("ds4p %v: stderr %q; want %d warnings", args, errOut, c.n)
		}
		for _, w := range c.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("ds4p %v: stderr %q lacks %q", args, errOut, w)
			}
		}
		for _, l := range lines {
			if !strings.HasPrefix(l, "ds4p token: warning: ") || !strings.HasSuffix(l, warning) {
				t.Errorf("ds4p %v: stderr line %q is not a warning saying why", args, l)
			}
		}
	}
}

// TestTokenSaysWhenItMadeANewKey: the first token of a data directory makes
// its signing key and says so (a mistyped --data would otherwise mint a
// token nothing trusts, silently); later tokens say nothing.
func TestTokenSaysWhenItMadeANewKey(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	for i, want := range []bool{true, false} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), []string{"token", "--data", dir, "--sub", "s"}, &out, &errOut); code != 0 || out.Len() == 0 {
			t.Fatalf("token %d: %d %s", i, code, errOut.String())
		}
		if got := strings.Contains(errOut.String(), "made a new development signing key"); got != want {
			t.Errorf("token %d: notice %v, want %v: %q", i, got, want, errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"keys", "remove", "--file", filepath.Join(dir, "none")}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "--id is required") {
		t.Errorf("keys remove without --id: %d %q", code, errOut.String())
	}
}
