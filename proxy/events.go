package proxy

import (
	"errors"

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
		ev.Subject, ev.Org, ev.Client = caller.Subject, caller.Org, caller.Client
	}
	s.emit(ev)
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
