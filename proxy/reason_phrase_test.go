package proxy

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// phiReason is a reason phrase an upstream chose: it can say anything.
const phiReason = "Patient John Smith MRN 4711 unavailable"

// answerWithReason answers status with phiReason as the status line's text.
func answerWithReason(w http.ResponseWriter, status int) {
	c, bw, _ := w.(http.Hijacker).Hijack()
	defer c.Close()
	bw.WriteString("HTTP/1.1 " + strconv.Itoa(status) + " " + phiReason + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	bw.Flush()
}

// TestUpstreamReasonPhraseNotRepeated: the errors of a failed consent
// search, patient check and readiness ping quoted the upstream's status
// line (resp.Status), whose reason phrase the upstream chooses, into logs,
// spans, the /readyz answer and the simulator's answer. They give the
// numeric status only (QA round 17).
func TestUpstreamReasonPhraseNotRepeated(t *testing.T) {
	check := func(t *testing.T, what, text string) {
		t.Helper()
		if strings.Contains(text, "John Smith") {
			t.Errorf("%s repeats the upstream's reason phrase: %s", what, text)
		}
	}
	t.Run("consent-search", func(t *testing.T) {
		var logs lockedBuffer
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/Consent") {
				answerWithReason(w, http.StatusInternalServerError)
				return
			}
			fhirJSONHandler(200, sudCondition)(w, r)
		}))
		defer up.Close()
		px := onDemandConsentProxy(t, up.URL, func(d *Deps) { d.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
		req, _ := http.NewRequest("GET", px.URL+"/fhir/Condition/sud1", nil)
		req.Header.Set("Authorization", "Bearer "+tokConsented)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if !strings.Contains(logs.String(), "answered 500") {
			t.Errorf("the log does not give the status: %s", logs.String())
		}
		check(t, "log", logs.String())
	})
	t.Run("patient-check", func(t *testing.T) {
		var logs lockedBuffer
		h := newHarness(t, func(w http.ResponseWriter, r *http.Request) { answerWithReason(w, http.StatusInternalServerError) },
			func(_ *Options, d *Deps) {
				d.Consents = openConsentStore(t)
				d.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
			})
		resp, body := h.do(http.MethodPost, "/admin/Consent", tokAdmin, "application/fhir+json", strings.Replace(apiConsent, "ORG", "Organization/org-a", 1))
		if resp.StatusCode != http.StatusBadGateway {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		check(t, "answer", body)
		check(t, "log", logs.String())
	})
	t.Run("readyz", func(t *testing.T) {
		h := newHarness(t, func(w http.ResponseWriter, r *http.Request) { answerWithReason(w, http.StatusServiceUnavailable) })
		resp, body := h.get("/readyz", "")
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "503") {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		check(t, "answer", body)
	})
}
