package proxy

import (
	"context"
	"net/http"
	"time"

	"github.com/ds4p/ds4p/internal/reqid"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/siem"
	"github.com/gin-gonic/gin"
)

// refuseBlocked answers 403 to a caller blocked by an open bulk-access
// alert, before anything is sent upstream: on /fhir and on /admin alike
// (a blocked caller holding an admin role neither reads the ledger nor
// clears alerts until another auditor clears its own). Blocks hold with
// detection turned off too: protection.bulk.enabled: false stops new
// alerts, it does not pardon the callers already flagged.
func (s *Server) refuseBlocked(c *gin.Context) {
	if id, ok := s.blockedBy(bulkKey(callerOf(c))); ok {
		writeOutcome(c.Writer, http.StatusForbidden, "forbidden",
			"this caller is blocked pending review of security alert "+id+"; an auditor must clear it")
		c.Abort()
		return
	}
	c.Next()
}

// Blocked reports the open bulk-access alert blocking the caller with
// this subject and client, as refuseBlocked would find it: the web
// console asks it for the calls it answers from the ledger itself.
func (s *Server) Blocked(subject, client string) (alertID string, blocked bool) {
	return s.blockedBy(bulkKey(authn.Caller{Subject: subject, Client: client}))
}

// alertRoutes registers the alert review endpoints for auditors:
//
//	GET  /admin/alerts[?status=open|all]   {"alerts": [Alert...], "count": N}
//	POST /admin/alerts/{id}/clear          the cleared Alert; unblocks its caller
func (s *Server) alertRoutes(admin *gin.RouterGroup) {
	admin.GET("/alerts", s.listAlerts)
	admin.POST("/alerts/:id/clear", s.clearAlert)
}

func (s *Server) listAlerts(c *gin.Context) {
	v := c.Request.URL.Query()
	if err := onlyParams(v, map[string]bool{"status": true}); err != nil {
		writeOutcome(c.Writer, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	status := v.Get("status")
	if status != "" && status != "open" && status != "all" {
		writeOutcome(c.Writer, http.StatusBadRequest, "invalid", "status must be open or all")
		return
	}
	if s.alerts == nil {
		c.JSON(http.StatusOK, gin.H{"alerts": []Alert{}, "count": 0})
		return
	}
	s.Flush() // the alerts of withheld-only responses are stored behind them (raiseAlert)
	list, err := s.alertList(c.Request.Context(), status == "all")
	if err != nil {
		s.log.Error("alerts could not be read", "request_id", c.GetString(requestIDKey), "error", err.Error())
		writeOutcome(c.Writer, http.StatusInternalServerError, "exception", "the alerts could not be read")
		return
	}
	c.JSON(http.StatusOK, gin.H{"alerts": list, "count": len(list)})
}

func (s *Server) clearAlert(c *gin.Context) {
	id := c.Param("id")
	if s.alerts == nil || !reqid.Plain(id) {
		writeOutcome(c.Writer, http.StatusNotFound, "not-found", "no such alert")
		return
	}
	ctx := c.Request.Context()
	clearer := callerOf(c)
	s.Flush() // an alert raised behind a withheld-only response is stored (raiseAlert)
	a, ok, err := s.alerts.GetAlert(ctx, id)
	if err == nil && !ok {
		a, ok = s.unstoredAlert(id)
	}
	if err == nil && ok && a.Status == AlertOpen && flaggedIs(a, clearer) {
		// Separation of duties: the flagged caller does not judge its own
		// alert, nor lift its own block.
		s.log.Warn("alert clear refused: the clearer is the flagged caller", "request_id", c.GetString(requestIDKey),
			"alert_id", a.ID, "caller_subject", logSubject(clearer), "caller_client", clearer.Client)
		writeOutcome(c.Writer, http.StatusForbidden, "forbidden",
			"separation of duties: this alert flags you (the clearer's subject or client is the flagged caller's); another auditor must clear it")
		return
	}
	clearing := err == nil && ok && a.Status == AlertOpen
	if clearing {
		now := time.Now().UTC()
		a.Status, a.ClearedAt, a.ClearedBy = AlertCleared, &now, clearer.Subject
		if err = s.alerts.PutAlert(ctx, a); err == nil {
			s.blocked.mu.Lock()
			delete(s.blocked.unstored, a.ID)
			s.blocked.mu.Unlock()
		}
	}
	switch {
	case err != nil:
		s.log.Error("alert could not be cleared", "request_id", c.GetString(requestIDKey), "alert_id", id, "error", err.Error())
		writeOutcome(c.Writer, http.StatusInternalServerError, "exception", "the alert could not be cleared")
		return
	case !ok:
		writeOutcome(c.Writer, http.StatusNotFound, "not-found", "no such alert")
		return
	}
	s.unblockCleared(ctx, c.GetString(requestIDKey), a)
	if clearing {
		// A clear of an alert cleared before answers it as it is and
		// records nothing: the SIEM had one alert_cleared per repeat,
		// each naming the first clearer, whoever sent it.
		s.log.Info("alert cleared", "request_id", c.GetString(requestIDKey), "alert_id", a.ID, "cleared_by", a.ClearedBy)
		s.securityEvent(c, siem.Event{Kind: siem.KindAlertCleared, Severity: siem.SeverityNotice, AlertID: a.ID,
			Reason: "cleared by " + a.ClearedBy})
	}
	c.JSON(http.StatusOK, a)
}

// unblockCleared lifts the block of a's caller unless another open
// blocking alert flags the same caller: one pull of concurrent large
// searches raises several, and clearing the one that happened to be held
// (after a restart, the oldest) let the caller through while the others
// still said blocking. When the open alerts cannot be read the block
// stays (a clear of the same alert again retries).
func (s *Server) unblockCleared(ctx context.Context, requestID string, a Alert) {
	open, err := s.alertList(ctx, false)
	if err != nil {
		s.log.Error("open alerts could not be read; the caller stays blocked", "request_id", requestID, "alert_id", a.ID, "error", err.Error())
		return
	}
	s.blocked.mu.Lock()
	defer s.blocked.mu.Unlock()
	if held, ok := s.blocked.by[a.Caller]; !ok || held != a.ID {
		return // not blocked, or by another alert
	}
	for _, o := range open { // newest first
		if o.Blocking && o.Caller == a.Caller && o.ID != a.ID {
			s.blocked.by[a.Caller] = o.ID
			return
		}
	}
	delete(s.blocked.by, a.Caller)
}

// flaggedIs reports whether caller is the caller alert a flags: the same
// block key, or any identity the two share (caller's subject or client
// against the alert's subject or client).
func flaggedIs(a Alert, caller authn.Caller) bool {
	if bulkKey(caller) == a.Caller {
		return true
	}
	for _, theirs := range []string{a.Subject, a.Client} {
		if theirs != "" && (theirs == caller.Subject || theirs == caller.Client) {
			return true
		}
	}
	return false
}
