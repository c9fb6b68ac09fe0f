package proxy

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/ds4p/ds4p/proxy/authn"
)

// syncBuffer is a log destination safe for the proxy's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestUnfetchedKeysLogNoIdPCredentials (QA round 21, area D): when the
// issuer's JWKS could not be fetched, the edge logged the verifier's error
// as it came ("token not checked: no signing keys"), and it names the JWKS
// URL whole: the identity provider's password in its userinfo and an API
// key in its query went to the log with every request while the issuer
// was down. The URL is now shown without them; its host and path stay,
// which is what an operator needs.
func TestUnfetchedKeysLogNoIdPCredentials(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing answers: every fetch fails at once
	v, err := authn.NewVerifier(context.Background(), authn.Config{JWKSURL: "http://idp-user:pw9SECRET@" + addr + "/jwks?api_key=key9SECRET"})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	ev := &recEvents{}
	h := newHarness(t, fhirJSONHandler(200, sudCondition), func(_ *Options, d *Deps) {
		d.Auth, d.Logger, d.Events = v, slog.New(slog.NewJSONHandler(logs, nil)), ev
	})
	enc := base64.RawURLEncoding.EncodeToString
	tok := enc([]byte(`{"alg":"ES256","kid":"k1"}`)) + "." + enc([]byte(`{"sub":"dr-a","exp":9999999999}`)) + "." + enc([]byte("sig"))
	if resp, body := h.get("/fhir/Condition/sud1", tok); resp.StatusCode != 503 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	got := logs.String()
	if !strings.Contains(got, "token not checked: no signing keys") || !strings.Contains(got, addr+"/jwks") {
		t.Fatalf("the log does not say which keys were not fetched:\n%s", got)
	}
	ev.mu.Lock()
	for _, e := range ev.evs {
		got += e.Reason
	}
	ev.mu.Unlock()
	if strings.Contains(got, "SECRET") {
		t.Errorf("the IdP's credentials were logged:\n%s", got)
	}
}

// TestRefusalReason: the URLs of a refusal's text lose their userinfo and
// query; a URL cut inside its credentials is withheld whole; text without
// a URL is kept.
func TestRefusalReason(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{`authn: JWKS https://u:p@idp.example/jwks?k=v not available: Get "https://u:***@idp.example/jwks?k=v": EOF`,
			`authn: JWKS https://idp.example/jwks?(query withheld) not available: Get "https://idp.example/jwks?(query withheld)": EOF`},
		{"authn: JWKS https://u:pw-cut…", "authn: JWKS (URL withheld)"},
		{"authn: unauthenticated: not a compact JWS", "authn: unauthenticated: not a compact JWS"},
		{"authn: JWKS https://idp.example/jwks not available", "authn: JWKS https://idp.example/jwks not available"},
	} {
		if got := refusalReason(textError(c.in)); got != c.want {
			t.Errorf("%q:\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

type textError string

func (e textError) Error() string { return string(e) }

// TestCallersMethodNotInLogsOrSpans (QA round 21, area D): a request's
// method is any token its sender spells, up to the 64 KiB header limit,
// and went as sent into the access log line and the edge span's
// http.request.method_original, before any authentication. Such a request
// is answered 405; the log names its method _OTHER and the span carries
// none of it. Not parallel: it records the global tracer provider's spans.
func TestCallersMethodNotInLogsOrSpans(t *testing.T) {
	rec := recordSpans(t)
	logs := &syncBuffer{}
	h := newHarness(t, fhirJSONHandler(200, sudCondition), func(_ *Options, d *Deps) {
		d.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	})
	const method = "ZEBEDIAH-QUUXWORTH-MRN777111"
	for _, path := range []string{"/fhir/Condition/sud1", "/healthz", "/nowhere"} {
		if resp, body := h.do(method, path, tokConsented, "", ""); resp.StatusCode != 405 && resp.StatusCode != 404 {
			t.Fatalf("%s %s: status %d: %s", method, path, resp.StatusCode, body)
		}
	}
	if resp, _ := h.get("/fhir/Condition/sud1", tokConsented); resp.StatusCode != 200 {
		t.Fatalf("GET: status %d", resp.StatusCode)
	}
	got := logs.String()
	if strings.Contains(got, "ZEBEDIAH") || strings.Count(got, `"method":"_OTHER"`) != 3 || !strings.Contains(got, `"method":"GET"`) {
		t.Errorf("access log:\n%s", got)
	}
	for _, text := range spanTexts(rec) {
		if strings.Contains(text, "ZEBEDIAH") {
			t.Errorf("a span carries the caller's method: %s", text)
		}
	}
}
