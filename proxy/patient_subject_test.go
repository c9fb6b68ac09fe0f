package proxy

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/proxy/authn"
)

// patientAppAuth is a patient-facing app's token (SMART patient context,
// fhirUser the patient): its subject is the patient's own login.
type patientAppAuth struct{}

func (patientAppAuth) Verify(context.Context, string) (authn.Caller, error) {
	return authn.Caller{Subject: "jane.doe.1970@patientportal", Client: "portal-app", Patient: "p1",
		FHIRUser: "Patient/p1", PatientUser: true, Scopes: []string{"patient/*.rs"}, Purposes: []string{"PATRQT"}}, nil
}

// launchedBreakGlass is breakGlassAuth's clinician in a SMART launch
// context naming the patient.
type launchedBreakGlass struct{ breakGlassAuth }

func (a launchedBreakGlass) Verify(ctx context.Context, raw string) (authn.Caller, error) {
	c, err := a.breakGlassAuth.Verify(ctx, raw)
	c.Subject, c.Patient = "dr.jane.doe.1970", "p1"
	return c, err
}

// TestPatientSubjectNotInEdgeLogsOrEvents: the rate-limit log line and
// rate_limited event named a patient app's subject, the patient's own login,
// which the access log and the web console leave out; so did the
// break_glass log line and event of a token bound to a patient (QA round
// 17). They name the client and organisation instead.
func TestPatientSubjectNotInEdgeLogsOrEvents(t *testing.T) {
	check := func(t *testing.T, logs *lockedBuffer, ev *recEvents, kind string) {
		t.Helper()
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, "jane.doe") {
				t.Errorf("log line names the patient's subject: %s", l)
			}
		}
		ev.mu.Lock()
		defer ev.mu.Unlock()
		seen := false
		for _, e := range ev.evs {
			seen = seen || e.Kind == kind
			if strings.Contains(e.Subject, "jane.doe") {
				t.Errorf("security event %s names the patient's subject %q", e.Kind, e.Subject)
			}
		}
		if !seen {
			t.Errorf("no %s event among %+v", kind, ev.evs)
		}
	}
	t.Run("rate-limited", func(t *testing.T) {
		var logs lockedBuffer
		ev := &recEvents{}
		h := newHarness(t, fhirJSONHandler(200, sudCondition), func(o *Options, d *Deps) {
			d.Auth, d.Events = patientAppAuth{}, ev
			d.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
			o.Protection.RateLimits = RateLimits{Enabled: true, Read: Limit{Rate: 0.001, Burst: 2}}
		})
		for range 4 {
			h.get("/fhir/Patient/p1", "x")
		}
		if !strings.Contains(logs.String(), `"caller_client":"portal-app"`) {
			t.Errorf("the rate-limit log line does not name the client: %s", logs.String())
		}
		check(t, &logs, ev, "rate_limited")
	})
	// breakGlassRead reads a Part 2 condition under break-the-glass as
	// auth's caller, returning the logs and events it raised.
	breakGlassRead := func(t *testing.T, auth Authenticator) (*lockedBuffer, *recEvents) {
		var logs lockedBuffer
		ev := &recEvents{}
		h := newHarness(t, fhirJSONHandler(200, part2Condition), func(_ *Options, d *Deps) {
			d.Auth, d.Events = auth, ev
			d.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
		})
		if resp, body := h.get("/fhir/Condition/p2c", "any"); resp.StatusCode != 200 {
			t.Fatalf("break-glass read: %d %s", resp.StatusCode, body)
		}
		return &logs, ev
	}
	t.Run("break-glass", func(t *testing.T) {
		logs, ev := breakGlassRead(t, launchedBreakGlass{})
		check(t, logs, ev, "break_glass")
	})
	// A clinician in an EHR launch (fhirUser a Practitioner) is no patient:
	// security review needs who broke the glass.
	t.Run("break-glass by a launched clinician", func(t *testing.T) {
		_, ev := breakGlassRead(t, launchedClinician{})
		ev.mu.Lock()
		defer ev.mu.Unlock()
		named := false
		for _, e := range ev.evs {
			named = named || e.Kind == "break_glass" && e.Subject == "dr.house"
		}
		if !named {
			t.Errorf("no break_glass event naming the clinician among %+v", ev.evs)
		}
	})
}

// launchedClinician is launchedBreakGlass with a clinician's fhirUser.
type launchedClinician struct{ breakGlassAuth }

func (a launchedClinician) Verify(ctx context.Context, raw string) (authn.Caller, error) {
	c, err := a.breakGlassAuth.Verify(ctx, raw)
	c.Subject, c.Patient, c.FHIRUser = "dr.house", "p1", "Practitioner/house"
	return c, err
}
