package proxy

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/proxy/authn"
)

// TestUnknownPurposeLoggedOnce: a token whose purpose is not a
// v3-PurposeOfUse code ("treat") gets one warning naming the code and the
// likely one, however many requests it makes; a known purpose gets none.
func TestUnknownPurposeLoggedOnce(t *testing.T) {
	t.Parallel()
	logs := &lockedBuffer{}
	h := newHarness(t, fhirJSONHandler(200, bpObs), func(_ *Options, d *Deps) {
		d.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	})
	for range 3 {
		h.get("/fhir/Observation/bp1", "Organization/org-a|treat|user/*.read")
		h.get("/fhir/Observation/bp1", tokConsented)
	}
	out := logs.String()
	if n := strings.Count(out, "not a v3-PurposeOfUse code"); n != 1 {
		t.Fatalf("%d warnings for the unknown purpose, want 1:\n%s", n, out)
	}
	if !strings.Contains(out, `"purpose":"treat"`) || !strings.Contains(out, `"did_you_mean":"TREAT"`) {
		t.Fatalf("warning lacks the code or the suggestion:\n%s", out)
	}
	if strings.Contains(out, `"purpose":"TREAT"`) {
		t.Fatalf("a known purpose was warned about:\n%s", out)
	}
}

// TestPurposeHintsBounded: past maxPurposeHints pairs nothing more is
// remembered or logged.
func TestPurposeHintsBounded(t *testing.T) {
	t.Parallel()
	logs := &lockedBuffer{}
	s := &Server{log: slog.New(slog.NewJSONHandler(logs, nil))}
	for i := range maxPurposeHints + 50 {
		s.hints.check(s, "r", callerWithPurpose(strings.Repeat("X", i%7+1)+string(rune('a'+i%26))+string(rune('a'+i/26))))
	}
	if n := len(s.hints.seen); n != maxPurposeHints {
		t.Fatalf("%d pairs remembered, want %d", n, maxPurposeHints)
	}
	if n := strings.Count(logs.String(), "not a v3-PurposeOfUse code"); n != maxPurposeHints {
		t.Fatalf("%d warnings, want %d", n, maxPurposeHints)
	}
}

func callerWithPurpose(p string) authn.Caller {
	return authn.Caller{Client: "c", Purposes: []string{p}}
}
