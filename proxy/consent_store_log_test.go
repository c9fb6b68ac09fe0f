package proxy

import (
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/consent"
	"go.etcd.io/bbolt"
)

// TestConsentStoreFailureLogNamesNoConsentID: the "consent store failed"
// log line repeated the store's error, which wraps the consent id the
// request named ("consent: getting <id>: ..."); the proxy never logs consent
// ids, as a PUT chooses them and can spell a patient's (QA round 17).
func TestConsentStoreFailureLogNamesNoConsentID(t *testing.T) {
	db, err := bbolt.Open(filepath.Join(t.TempDir(), "ds4p.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	store, err := consent.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close() // the store fails from now on, as on an I/O error
	var logs lockedBuffer
	h := newHarness(t, fhirJSONHandler(200, `{"resourceType":"Patient","id":"p1"}`), func(_ *Options, d *Deps) {
		d.Consents = store
		d.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	})
	const id = "jane-doe-1970-01-01-sud-consent"
	if resp, body := h.get("/admin/Consent/"+id, tokAdmin); resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("GET: %d %s", resp.StatusCode, body)
	}
	withID := strings.Replace(strings.Replace(apiConsent, "ORG", "Organization/org-a", 1), `"status":"active",`, `"id":"`+id+`","status":"active",`, 1)
	if resp, body := h.do(http.MethodPut, "/admin/Consent/"+id, tokAdmin, "application/fhir+json", withID); resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("PUT: %d %s", resp.StatusCode, body)
	}
	if n := strings.Count(logs.String(), `"msg":"consent store failed"`); n != 2 {
		t.Errorf("%d store failures logged, want 2: %s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "database not open") {
		t.Errorf("the log does not give the cause: %s", logs.String())
	}
	if strings.Contains(logs.String(), "jane-doe") {
		t.Errorf("the log names the consent id: %s", logs.String())
	}
}
