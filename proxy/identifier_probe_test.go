package proxy

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestOnDemandIdentifierSearchIgnored: an upstream that answers
// Consent?patient:identifier= with an empty searchset, 200, whatever it
// holds (older HAPI FHIR, Medplum's in-memory repository) is not refusing
// the modifier, and the opt-out naming p1 by MRN went unread: org-a read
// the SUD condition under the permit (200). The search is now checked
// against a known answer, a consent the upstream lists that names its
// patient by such an identifier; while the search does not find it, the
// response is withheld and /readyz says why. An upstream holding no such
// consent leaves the search unverified and used; one that finds it is
// trusted from then on.
func TestOnDemandIdentifierSearchIgnored(t *testing.T) {
	t.Parallel()
	permit := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	// Another patient's consent by MRN: the one the check looks for when
	// p1's is not there.
	const otherByMRN = `{"resourceType":"Consent","id":"u3","status":"active",
	  "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	  "patient":{"identifier":{"system":"urn:mrn","value":"999"}},
	  "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTIN"}]}}`
	tests := []struct {
		name      string
		consents  []string
		ignores   bool
		wantCode  func(int) bool
		wantReady string
	}{
		{"the search ignores the modifier, p1's opt-out upstream", []string{permit, mrnOptOut}, true,
			func(c int) bool { return c >= 500 }, "warn"},
		{"the search ignores the modifier, another patient's consent by MRN", []string{permit, otherByMRN}, true,
			func(c int) bool { return c >= 500 }, "warn"},
		{"the search answers, p1's opt-out upstream", []string{permit, mrnOptOut}, false,
			func(c int) bool { return c == http.StatusNotFound }, "pass"},
		{"no consent by MRN to check with: unverified, used", []string{permit}, true,
			func(c int) bool { return c == http.StatusOK }, "pass"},
		// The check's search fails as a connection does (a url.Error,
		// whose text is the URL with the MRN): withheld, nothing logged
		// with the MRN, and checked again on the next response.
		{"the search's connection fails", []string{permit, mrnOptOut}, false,
			func(c int) bool { return c >= 500 }, "pass"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Nanosecond, PatientIdentifierSystem: "urn:mrn"})
			var logs lockedBuffer
			u.server.log = timelessLogger(&logs)
			searchingFHIR(u)
			inner := u.upstream.Config.Handler
			var ignoring, failing atomic.Bool
			ignoring.Store(tt.ignores)
			failing.Store(strings.Contains(tt.name, "connection fails"))
			var searches atomic.Int32
			u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/fhir/R4/Consent" && r.URL.Query().Has("patient:identifier") && failing.Load() {
					searches.Add(1)
					if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
						c.Close()
					}
					return
				}
				if r.URL.Path == "/fhir/R4/Consent" && r.URL.Query().Has("patient:identifier") && ignoring.Load() {
					fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","total":0}`)(w, r)
					return
				}
				inner.ServeHTTP(w, r)
			})
			u.fhir.set(200, tt.consents...)
			resp, body := u.get("/fhir/Condition/sud1", tokConsented)
			if !tt.wantCode(resp.StatusCode) {
				t.Errorf("org-a read the SUD condition: %d %s", resp.StatusCode, body)
			}
			if resp.StatusCode != http.StatusOK && strings.Contains(body, "F11.20") {
				t.Errorf("withheld data in the answer: %s", body)
			}
			_, rb := u.get("/readyz", "")
			var r struct {
				Checks map[string]struct{ Status, Detail string }
			}
			if err := json.Unmarshal([]byte(rb), &r); err != nil {
				t.Fatalf("readyz: %v %s", err, rb)
			}
			c := r.Checks["consent_identifier_search"]
			if c.Status != tt.wantReady || tt.wantReady == "warn" && (!strings.Contains(c.Detail, ":identifier") || !strings.Contains(c.Detail, "patient_identifier_system")) {
				t.Errorf("readyz: %q %q, want %s naming the modifier and the setting", c.Status, c.Detail, tt.wantReady)
			}
			if l := linesNaming(logs.String(), "123", "999"); len(l) > 0 {
				t.Errorf("the log names an identifier: %q", l)
			}
			if failing.Load() {
				// The next response checks again, not in 10 minutes: a
				// server that now answers without honouring the modifier
				// is found out at once, and the response withheld.
				n := searches.Load()
				failing.Store(false)
				ignoring.Store(true)
				if resp, body := u.get("/fhir/Condition/sud1", tokConsented); resp.StatusCode < 500 {
					t.Errorf("the search then ignoring the modifier: %d %s, want the response withheld", resp.StatusCode, body)
				}
				if n == 0 {
					t.Error("the failing search was not asked")
				}
				return
			}
			if !tt.ignores || len(tt.consents) < 2 {
				return
			}
			// The server is fixed: the next check, once due, trusts the
			// search, and the opt-out (or, for another patient's consent
			// only, the permit) decides.
			ignoring.Store(false)
			m := u.server.consents.(*sourcedConsents)
			m.identifierProbeSem <- struct{}{} // as the checks hold it
			m.identifierProbeEvery = 0
			<-m.identifierProbeSem
			want := http.StatusOK
			if tt.consents[1] == mrnOptOut {
				want = http.StatusNotFound
			}
			if code := u.read(tokConsented); code != want {
				t.Errorf("the search fixed: %d, want %d", code, want)
			}
			if _, rb := u.get("/readyz", ""); !strings.Contains(rb, `"consent_identifier_search":{"status":"pass"`) {
				t.Errorf("readyz once the search answers: %s", rb)
			}
		})
	}
}

var requestIDs = regexp.MustCompile(`request_id=[0-9a-fA-F-]+`)

// timelessLogger logs to w as text without times, which may hold the
// digits a test looks for.
func timelessLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
}

// linesNaming returns the lines of logs, but the access log's (whose
// random request ids and durations may hold any digits), that hold one
// of values outside their request ids (random hex: "...5599993daf..." in
// a "response withheld" line failed a CI run).
func linesNaming(logs string, values ...string) []string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "msg=request ") {
			continue
		}
		bare := requestIDs.ReplaceAllString(l, "request_id=")
		for _, v := range values {
			if strings.Contains(bare, v) {
				out = append(out, l)
				break
			}
		}
	}
	return out
}
