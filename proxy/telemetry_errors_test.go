package proxy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/rego"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// spanTexts renders each ended span: name, status, attributes, events.
func spanTexts(rec *tracetest.SpanRecorder) []string {
	var out []string
	for _, s := range rec.Ended() {
		all := []string{s.Name(), "status=" + s.Status().Description}
		for _, a := range s.Attributes() {
			all = append(all, string(a.Key)+"="+a.Value.Emit())
		}
		for _, e := range s.Events() {
			all = append(all, e.Name)
			for _, a := range e.Attributes {
				all = append(all, string(a.Key)+"="+a.Value.Emit())
			}
		}
		out = append(out, strings.Join(all, " "))
	}
	return out
}

// TestSpansCarryNoPHIOnFailure: a failed read of a reference target or of
// the patient's consents failed the pipeline's span with the error's text:
// the upstream URL (a clinical resource's id, the patient's id) and the
// upstream's status line. The span has the issue code and a fixed kind of
// cause instead (QA round 17). Not parallel: it records the spans of the
// global tracer provider.
func TestSpansCarryNoPHIOnFailure(t *testing.T) {
	t.Run("target", func(t *testing.T) {
		rec := recordSpans(t)
		up := newRouted(map[string]string{
			"MedicationRequest/mr1": orderFor("mr1", "Condition/sud-jsmith-1970"),
		})
		h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "sud-jsmith") {
				c, _, _ := w.(http.Hijacker).Hijack()
				c.Close() // the read fails at the transport
				return
			}
			up.handle(w, r)
		}, withCache)
		resp, body := h.get("/fhir/MedicationRequest/mr1", tokConsented)
		if resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		checkFailedSpans(t, rec, "sud-jsmith")
	})
	for _, mode := range []string{"reason", "eof"} {
		t.Run("consents-"+mode, func(t *testing.T) {
			rec := recordSpans(t)
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !strings.HasSuffix(r.URL.Path, "/Consent") {
					fhirJSONHandler(200, sudCondition)(w, r)
					return
				}
				c, bw, _ := w.(http.Hijacker).Hijack()
				if mode == "reason" {
					bw.WriteString("HTTP/1.1 500 Patient John Smith MRN 4711 has no consents\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
					bw.Flush()
				}
				c.Close()
			}))
			defer up.Close()
			px := onDemandConsentProxy(t, up.URL, nil)
			req, _ := http.NewRequest("GET", px.URL+"/fhir/Condition/sud1", nil)
			req.Header.Set("Authorization", "Bearer "+tokConsented)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode < 500 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			checkFailedSpans(t, rec, "John Smith", "Patient%2Fp1", "Patient/p1", strings.TrimPrefix(up.URL, "http://"))
		})
	}
}

// checkFailedSpans wants a failed span with an exception event and none
// repeating any of phi.
func checkFailedSpans(t *testing.T, rec *tracetest.SpanRecorder, phi ...string) {
	t.Helper()
	failed := false
	for _, text := range spanTexts(rec) {
		if strings.Contains(text, "status=failed") && strings.Contains(text, "exception.message=") {
			failed = true
		}
		for _, p := range phi {
			if strings.Contains(text, p) {
				t.Errorf("span carries %q: %s", p, text)
			}
		}
	}
	if !failed {
		t.Errorf("no failed span with an exception event: %v", spanTexts(rec))
	}
}

// onDemandConsentProxy serves a proxy in front of upstream that reads the
// patient's consents from it on demand.
func onDemandConsentProxy(t *testing.T, upstream string, configure func(*Deps)) *httptest.Server {
	t.Helper()
	u, _ := url.Parse(upstream + "/fhir/R4")
	eng, err := policy.New(context.Background(), rego.FS())
	if err != nil {
		t.Fatal(err)
	}
	d := Deps{Labeller: labels.Default(), Decider: eng, Ledger: &fakeLedger{}, Auth: fakeAuth{}, Consents: openConsentStore(t)}
	if configure != nil {
		configure(&d)
	}
	srv, err := New(Options{Upstream: u, UpstreamTimeout: 2 * time.Second, MaxBodyBytes: 1 << 20}, d)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.UseConsentSources(context.Background(), ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	px := httptest.NewServer(srv.Handler())
	t.Cleanup(px.Close)
	return px
}
