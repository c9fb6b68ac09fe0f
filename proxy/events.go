package proxy

import (
	"errors"

	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/siem"
	"github.com/gin-gonic/gin"
)

// securityEvent queues ev for the SIEM with the request id and, when ev
// names no caller, the authenticated caller. It returns once the event
// is durable (siem.Queue), so a response sent after it is never without
// its event. A failure is logged; the request's answer stands.
func (s *Server) securityEvent(c *gin.Context, ev siem.Event) {
	if ev.RequestID == "" {
		ev.RequestID = c.GetString(requestIDKey)
	}
	if ev.Subject == "" && ev.Org == "" && ev.Client == "" {
		caller := callerOf(c)
		ev.Subject, ev.Org, ev.Client = logSubject(caller), caller.Org, caller.Client
	}
	s.emit(ev)
}

// logSubject is the caller's subject as the edge's logs and security events
// may name it: none for a patient's token (authn.Caller.PatientSide: a
// patient-facing app's user, a token bound to a patient by its identifier,
// or by a launch context without a clinician's fhirUser), whose subject is
// the patient's own login at the identity provider, as the access log and
// the web console (console/session.go logSubject) leave it out. Such a
// caller is named by its client and organisation; the ledger keeps the
// subject. A clinician launched in a patient's context keeps it.
func logSubject(c authn.Caller) string {
	if c.PatientSide() {
		return ""
	}
	return c.Subject
}

func (s *Server) emit(ev siem.Event) {
	if s.events == nil {
		return
	}
	if err := s.events.Emit(ev); err != nil && !errors.Is(err, siem.ErrQueueFull) { // a full queue counts, never floods the log
		s.log.Error("security event could not be queued for the SIEM", "kind", ev.Kind, "request_id", ev.RequestID, "error", err.Error())
	}
}

// SecurityEvent queues ev for the SIEM (dropped without one), as the
// edge's own events are: the web console reports its refused sign-ins
// through it. ev carries its request id and caller; never PHI.
func (s *Server) SecurityEvent(ev siem.Event) { s.emit(ev) }
