package e2e

import (
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/internal/servetest"
)

func init() {
	register("SyncNoticesDeletedConsentQA30G", testSyncNoticesDeletedConsent)
}

// syncDeletedConsentID is the Consent this scenario keeps in Medplum; it is
// deleted by the scenario itself (and again at the end, should it fail
// before).
const syncDeletedConsentID = "e2e-sync-deleted-qa30g"

// testSyncNoticesDeletedConsent runs a proxy with consents.upstream: sync
// (one round an hour, so that only the round at each start runs) on a data
// directory of its own. A permit held by Medplum grants; the proxy stops;
// the permit is deleted in Medplum; the proxy starts again on the same
// directory, and its first round, incremental since the stored mirror's
// round, must notice the deletion: Consent?_lastUpdated=gt... never lists
// a deleted consent, and the stored permit kept disclosing until the next
// full round (QA round 30, area G). Medplum answers the type history
// (Consent/_history?_since=) with the deletion as a DELETE entry.
func testSyncNoticesDeletedConsent(t *testing.T, e *env) {
	data := t.TempDir()
	config, err := e.writeLabelConfig()
	if err != nil {
		t.Fatal(err)
	}
	start := func() *servetest.Proc {
		cmd := exec.Command(e.bin, "serve", "--config", config, "--upstream", e.upstream.BaseURL,
			"--data", data, "--dev-auth", "--log-level", "warn")
		cmd.Env = append(os.Environ(), "OTEL_SDK_DISABLED=true", "DS4P_CONSENTS_UPSTREAM=sync", "DS4P_CONSENTS_SYNC_INTERVAL=1h")
		stderr, _ := cmd.StderrPipe()
		go drain(stderr)
		p, err := servetest.Start(cmd, 30*time.Second, nil) // ready: a round has succeeded
		if err != nil {
			t.Fatalf("the sync server: %v", err)
		}
		return p
	}
	body := strings.Replace(regrantBody("active"), `"id":"`+regrantConsent+`"`, `"id":"`+syncDeletedConsentID+`"`, 1)
	e.upstream.Put(t, []byte(body))
	deleted := false
	t.Cleanup(func() {
		if !deleted {
			deleteUpstream(t, e, "Consent/"+syncDeletedConsentID)
		}
	})

	p := start()
	out, err := exec.Command(e.bin, "token", "--data", data, "--sub", "dr-sync", "--org", regrantOrg, "--purpose", "TREAT", "--scope", "user/*.read").Output()
	if err != nil {
		p.Stop(5 * time.Second)
		t.Fatalf("ds4p token: %v", err)
	}
	caller := strings.TrimSpace(string(out))
	read := func(base string) int {
		r := e.do(t, http.MethodGet, base+"/fhir/"+regrantRecord, caller, nil)
		if r.Status != http.StatusOK && r.Status != http.StatusNotFound {
			t.Fatalf("read %s: %d %s", regrantRecord, r.Status, r.Body)
		}
		return r.Status
	}
	got := read(p.Base)
	p.Stop(5 * time.Second)
	if got != http.StatusOK {
		t.Fatalf("granted in the FHIR server: read %d, want 200", got)
	}

	deleteUpstream(t, e, "Consent/"+syncDeletedConsentID)
	deleted = true
	p = start()
	defer p.Stop(5 * time.Second)
	if got := read(p.Base); got != http.StatusNotFound {
		t.Errorf("deleted in the FHIR server, after the first (incremental) round of a restart: read %d, want 404", got)
	}
}
