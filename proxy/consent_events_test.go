package proxy

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ds4p/ds4p/siem"
)

// consentLog is a log sink safe for the server's goroutines.
type consentLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *consentLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *consentLog) lines(msg string) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, ln := range strings.Split(l.b.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(ln), &m) == nil && m["msg"] == msg {
			out = append(out, m)
		}
	}
	return out
}

// TestConsentChangesAttributable: QA found consent create, update and
// $revoke through /admin/Consent attributable to no one (the consent store
// records no author, the access log no subject, and no SIEM event). Each
// change now logs one line naming the actor's subject, organisation and
// client (never the patient or the consent id) and queues a
// consent_changed security event with the actor, the action, the consent
// id and version, and no patient; a $revoke that changes nothing raises
// neither.
func TestConsentChangesAttributable(t *testing.T) {
	t.Parallel()
	store := openConsentStore(t)
	upstream := func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fhir/R4/Patient/p1" {
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Patient","id":"p1"}`)(w, r)
			return
		}
		fhirJSONHandler(http.StatusNotFound, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
	}
	ev, logs := &recEvents{}, &consentLog{}
	h := newHarness(t, upstream, func(_ *Options, d *Deps) {
		d.Consents, d.Auth, d.Events = store, idAuth{}, ev
		d.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	})
	cm := "cm-alice|Organization/ops|consent-console|ds4p/consent-manager"
	body := strings.Replace(apiConsent, "ORG", "Organization/clinic", 1)

	resp, out := h.do(http.MethodPost, "/admin/Consent", cm, "application/fhir+json", body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, out)
	}
	var created struct{ ID string }
	_ = json.Unmarshal([]byte(out), &created)
	withID := strings.Replace(body, `"resourceType":"Consent",`, `"resourceType":"Consent","id":"`+created.ID+`",`, 1)
	if resp, out := h.do(http.MethodPut, "/admin/Consent/"+created.ID, cm, "application/fhir+json", withID); resp.StatusCode != http.StatusOK {
		t.Fatalf("update: %d %s", resp.StatusCode, out)
	}
	if resp, out := h.do(http.MethodPut, "/admin/Consent/c-put", cm, "application/fhir+json",
		strings.Replace(withID, created.ID, "c-put", 1)); resp.StatusCode != http.StatusCreated {
		t.Fatalf("create by PUT: %d %s", resp.StatusCode, out)
	}
	for range 2 { // the second changes nothing
		if resp, out := h.do(http.MethodPost, "/admin/Consent/"+created.ID+"/$revoke", cm, "application/fhir+json",
			`{"resourceType":"Parameters"}`); resp.StatusCode != http.StatusOK {
			t.Fatalf("revoke: %d %s", resp.StatusCode, out)
		}
	}

	want := []struct{ action, id, version, status string }{
		{siem.ConsentCreated, created.ID, "1", "active"},
		{siem.ConsentUpdated, created.ID, "2", "active"},
		{siem.ConsentCreated, "c-put", "1", "active"},
		{siem.ConsentRevoked, created.ID, "3", "inactive"},
	}
	ev.mu.Lock()
	var got []siem.Event
	for _, e := range ev.evs {
		if e.Kind == siem.KindConsentChanged {
			got = append(got, e)
		}
	}
	ev.mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("consent_changed events = %+v, want %d", got, len(want))
	}
	for i, w := range want {
		e := got[i]
		if e.Action != w.action || e.Consent != w.id || e.ConsentVersion != w.version || e.Subject != "cm-alice" ||
			e.Org != "Organization/ops" || e.Client != "consent-console" || e.RequestID == "" || e.Severity != siem.SeverityNotice {
			t.Errorf("event %d = %+v, want %+v by cm-alice", i, e, w)
		}
		if b, _ := json.Marshal(e); strings.Contains(string(b), "Patient") || strings.Contains(string(b), "p1") {
			t.Errorf("event %d names the patient: %s", i, b)
		}
	}
	lines := logs.lines("consent changed")
	if len(lines) != len(want) {
		t.Fatalf("%d consent changed log lines, want %d: %v", len(lines), len(want), lines)
	}
	for i, w := range want {
		l := lines[i]
		if l["action"] != w.action || l["consent_version"] != w.version || l["consent_status"] != w.status ||
			l["actor_subject"] != "cm-alice" || l["actor_org"] != "Organization/ops" || l["actor_client"] != "consent-console" || l["request_id"] == "" {
			t.Errorf("log line %d = %v, want %+v by cm-alice", i, l, w)
		}
		b, _ := json.Marshal(l)
		for _, phi := range []string{"Patient", "p1", created.ID, "c-put"} {
			if strings.Contains(string(b), phi) {
				t.Errorf("log line %d names %q: %s", i, phi, b)
			}
		}
	}
}
