package proxy

import (
	"cmp"
	"context"
	"slices"

	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/labels"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The deleted Patient p1 (410; searched away: Patient?identifier= matches
// nothing) whose records remain, its last version carrying MRN 123; a
// permit of org-a naming it by reference, and an opt-out naming it by MRN
// alone.
const (
	qa32cOptOut = `{"resourceType":"Consent","id":"u2","meta":{"versionId":"1","lastUpdated":"2026-02-01T00:00:00Z"},"status":"active",
	  "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
	  "patient":{"identifier":{"system":"urn:mrn","value":"123"}},
	  "policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]}}`
	qa32cHistory = `{"resourceType":"Bundle","type":"history","entry":[
	  {"request":{"method":"DELETE","url":"Patient/p1"},"response":{"status":"204"}},
	  {"resource":{"resourceType":"Patient","id":"p1","meta":{"versionId":"1"},"identifier":[{"system":"urn:mrn","value":"123"}]},"request":{"method":"POST","url":"Patient"}}]}`
)

// qa32cUpstream is a fake upstream whose Patient p1 answers
// patientStatus (410: deleted, read from its history), counting the
// reads of the Patient and its history.
type qa32cUpstream struct {
	patientStatus atomic.Int32
	patientReads  atomic.Int32
	// newPatient: Patient?identifier=urn:mrn|123 matches Patient/p9, a
	// Patient created later with the MRN.
	newPatient atomic.Bool
	// mrn is the MRN Patient p1 has when it answers 200 ("" = 123).
	mrn string
}

func (q *qa32cUpstream) install(u *upstreamSetup) {
	searchingFHIR(u)
	searching := u.upstream.Config.Handler
	q.patientStatus.Store(http.StatusGone)
	u.upstream.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/fhir/R4/Patient/p1":
			q.patientReads.Add(1)
			st := int(q.patientStatus.Load())
			body := `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"deleted"}]}`
			if st == http.StatusOK {
				body = `{"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:mrn","value":"` + cmp.Or(q.mrn, "123") + `"}]}`
			}
			fhirJSONHandler(st, body)(w, r)
		case r.URL.Path == "/fhir/R4/Patient/p1/_history":
			q.patientReads.Add(1)
			fhirJSONHandler(http.StatusOK, qa32cHistory)(w, r)
		case r.URL.Path == "/fhir/R4/Patient" && r.URL.Query().Get("identifier") == "urn:mrn|123":
			entries := `[]`
			if q.newPatient.Load() {
				entries = `[{"resource":{"resourceType":"Patient","id":"p9","identifier":[{"system":"urn:mrn","value":"123"}]},"search":{"mode":"match"}}]`
			}
			fhirJSONHandler(http.StatusOK, `{"resourceType":"Bundle","type":"searchset","entry":`+entries+`}`)(w, r)
		default:
			searching.ServeHTTP(w, r)
		}
	})
}

// TestSyncOptOutOfADeletedPatientByMRNQA32C: in sync mode, with
// consents.patient_identifier_system set, an upstream opt-out naming its
// patient by MRN alone is given its patient by Patient?identifier=. A
// deleted Patient matches none, so the round kept the consent without a
// patient (a denial of no one), and the deleted Patient's records, which
// the upstream still serves, went to org-a under its permit: 200, where on
// demand the same upstream answers 404 (its identifiers are read from its
// history). Such a consent is now mirrored under its identifier and
// applies to each patient that has it (the Patient read, a deleted one's
// history), in sync mode as on demand.
func TestSyncOptOutOfADeletedPatientByMRNQA32C(t *testing.T) {
	t.Parallel()
	permit := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	// Two Patients sharing an MRN (p1, not deleted, and p2): it matches no
	// single Patient either.
	shared := strings.Replace(qa32cOptOut, `"value":"123"`, `"value":"dup"`, 1)
	for _, tt := range []struct{ name, mode, optOut, mrn string }{
		{"deleted patient, on demand", UpstreamOnDemand, qa32cOptOut, ""},
		{"deleted patient, sync", UpstreamSync, qa32cOptOut, ""},
		{"shared MRN, on demand", UpstreamOnDemand, shared, "dup"},
		{"shared MRN, sync", UpstreamSync, shared, "dup"},
	} {
		mode := tt.mode
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := newUpstreamSetup(t, ConsentSources{Upstream: mode, TTL: time.Hour, SyncInterval: time.Hour, PatientIdentifierSystem: "urn:mrn"})
			q := qa32cUpstream{mrn: tt.mrn}
			q.install(u)
			if tt.mrn != "" {
				q.patientStatus.Store(http.StatusOK)
			}
			u.fhir.set(http.StatusOK, permit, tt.optOut)
			if mode == UpstreamSync {
				if err := u.server.consents.(*sourcedConsents).syncOnce(context.Background(), time.Time{}, true); err != nil {
					t.Fatal(err)
				}
			}
			if code := u.read(tokConsented); code != http.StatusNotFound {
				t.Errorf("org-a read the deleted patient's SUD condition despite the MRN opt-out: %d, want 404", code)
			}
		})
	}
}

// TestSyncOptOutByMRNAcrossRoundsQA32C: the opt-out mirrored under its
// MRN is stored with the mirror (a restart keeps it), costs no Patient
// read while no such consent is mirrored, withholds when the Patient
// cannot be read, and once the MRN matches a Patient created later, a
// full round gives the opt-out to that Patient.
func TestSyncOptOutByMRNAcrossRoundsQA32C(t *testing.T) {
	t.Parallel()
	permit := upstreamConsent("u1", "1", "2026-01-01T00:00:00Z", "Organization/org-a")
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamSync, TTL: time.Hour, SyncInterval: time.Hour, PatientIdentifierSystem: "urn:mrn"})
	var q qa32cUpstream
	q.install(u)
	sc := u.server.consents.(*sourcedConsents)
	ctx := context.Background()

	// Without such a consent no Patient is read.
	u.fhir.set(http.StatusOK, permit)
	if err := sc.syncOnce(ctx, time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	if code := u.read(tokConsented); code != http.StatusOK {
		t.Fatalf("under the permit alone: %d, want 200", code)
	}
	if n := q.patientReads.Load(); n != 0 {
		t.Errorf("%d Patient reads with no consent mirrored by identifier, want 0", n)
	}

	u.fhir.set(http.StatusOK, permit, qa32cOptOut)
	if err := sc.syncOnce(ctx, time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	if code := u.read(tokConsented); code != http.StatusNotFound {
		t.Errorf("after the opt-out by MRN: %d, want 404", code)
	}
	if entries, _, err := u.store.Mirror().Load(ctx); err != nil || !strings.Contains(qa32cDump(entries), "u2@") {
		t.Errorf("the opt-out by MRN is not stored with the mirror: %s, %v", qa32cDump(entries), err)
	}

	// After a restart, the stored mirror and an incremental round that
	// lists nothing keep it.
	srv, err := New(Options{Upstream: mustURL(t, u.upstream.URL+"/fhir/R4"), UpstreamTimeout: 2 * time.Second, MaxBodyBytes: 1 << 20},
		Deps{Labeller: labels.Default(), Decider: failingDecider{}, Ledger: &fakeLedger{}, Auth: fakeAuth{}, Consents: u.store})
	if err != nil {
		t.Fatal(err)
	}
	stopped, cancel := context.WithCancel(ctx)
	cancel()
	if err := srv.UseConsentSources(stopped, ConsentSources{Upstream: UpstreamSync, SyncInterval: time.Hour, PatientIdentifierSystem: "urn:mrn"}); err != nil {
		t.Fatal(err)
	}
	restarted := srv.consents.(*sourcedConsents)
	since, _ := restarted.resume(ctx)
	u.fhir.set(http.StatusOK)
	if err := restarted.syncOnce(ctx, since, false); err != nil {
		t.Fatal(err)
	}
	if e, err := restarted.upstream(ctx, "Patient/p1"); err != nil || !slices.ContainsFunc(e.consents, func(n consent.Normalized) bool {
		return n.ID == "upstream:u2" && n.Patient == "Patient/p1"
	}) {
		t.Errorf("after a restart the deleted patient's consents are %+v, %v; want the opt-out by MRN among them", e.consents, err)
	}
	u.fhir.set(http.StatusOK, permit, qa32cOptOut)

	// A Patient read that fails withholds (the cached one expired).
	u2 := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamSync, TTL: time.Hour, SyncInterval: time.Hour, PatientIdentifierSystem: "urn:mrn"})
	var q2 qa32cUpstream
	q2.install(u2)
	q2.patientStatus.Store(http.StatusInternalServerError)
	u2.fhir.set(http.StatusOK, permit, qa32cOptOut)
	if err := u2.server.consents.(*sourcedConsents).syncOnce(ctx, time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	if code := u2.read(tokConsented); code == http.StatusOK {
		t.Errorf("the Patient read failing: %d, want withheld", code)
	}

	// A Patient created with the MRN: a full round gives it the opt-out;
	// the deleted one keeps it while the MRN is still read from its
	// history, as on demand reads it (no: on demand the consent is then
	// p9's, and p1's records flow). Only p9 is checked here.
	q.newPatient.Store(true)
	sc.patients.clear() // as after upstream_ttl: the MRN's lookup is not kept
	if err := sc.syncOnce(ctx, time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	if got := sc.mirror.patientsOf("upstream:u2"); len(got) != 1 || got[0] != "Patient/p9" {
		t.Errorf("after the MRN matched Patient/p9: the opt-out is held for %v, want [Patient/p9]", got)
	}
}

func qa32cDump(entries []consent.MirrorEntry) string {
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(e.ID + "@" + e.Patient + " ")
	}
	return b.String()
}
