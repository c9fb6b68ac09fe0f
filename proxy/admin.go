package proxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/gin-gonic/gin"
)

// findAudit lists ledger entries of one patient, oldest first, paged by
// sequence number: GET /admin/audit?patient=Patient/x[&after=SEQ][&_count=N].
func (s *Server) findAudit(c *gin.Context) {
	q := audit.Query{Patient: c.Query("patient"), Limit: 100}
	if q.Patient == "" {
		writeOutcome(c.Writer, http.StatusBadRequest, "required", "the patient parameter is required, e.g. ?patient=Patient/123")
		return
	}
	var err error
	if v := c.Query("after"); v != "" {
		if q.After, err = strconv.ParseUint(v, 10, 64); err != nil {
			writeOutcome(c.Writer, http.StatusBadRequest, "invalid", "after must be a sequence number")
			return
		}
	}
	if v := c.Query("_count"); v != "" {
		if q.Limit, err = strconv.Atoi(v); err != nil || q.Limit < 1 || q.Limit > 1000 {
			writeOutcome(c.Writer, http.StatusBadRequest, "invalid", "_count must be between 1 and 1000")
			return
		}
	}
	if q.From, q.To, err = timeRange(c.Query("from"), c.Query("to")); err != nil {
		writeOutcome(c.Writer, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	entries, err := s.ledger.Find(c.Request.Context(), q)
	if err != nil {
		s.log.Error("ledger query failed", "request_id", c.GetString(requestIDKey), "error", err.Error())
		writeOutcome(c.Writer, http.StatusInternalServerError, "exception", "the ledger could not be read")
		return
	}
	if entries == nil {
		entries = []audit.Entry{}
	}
	c.JSON(http.StatusOK, gin.H{"patient": q.Patient, "entries": entries})
}

func timeRange(from, to string) (time.Time, time.Time, error) {
	var f, t time.Time
	var err error
	if from != "" {
		if f, err = time.Parse(time.RFC3339, from); err != nil {
			return f, t, errors.New("from must be an RFC 3339 time")
		}
	}
	if to != "" {
		if t, err = time.Parse(time.RFC3339, to); err != nil {
			return f, t, errors.New("to must be an RFC 3339 time")
		}
	}
	return f, t, nil
}

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "pass"})
}

// readyz checks that the upstream answers, the stores are open and a policy
// is loaded.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	checks := gin.H{}
	ok := true
	report := func(name string, err error) {
		if err != nil {
			ok = false
			checks[name] = gin.H{"status": "fail", "detail": errString(err)}
			return
		}
		checks[name] = gin.H{"status": "pass"}
	}
	report("upstream", s.pingUpstream(ctx))
	if s.decider.Revision() == "" {
		report("policy", errors.New("no policy loaded"))
	} else {
		report("policy", nil)
	}
	for name, check := range s.checks {
		report(name, check(ctx))
	}
	status := http.StatusOK
	if !ok {
		status = http.StatusServiceUnavailable
	}
	c.JSON(status, gin.H{"status": map[bool]string{true: "pass", false: "fail"}[ok], "policy_revision": s.decider.Revision(), "checks": checks})
}

func (s *Server) pingUpstream(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.upBase+"/metadata", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/fhir+json")
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 500 {
		return errors.New("upstream answered " + resp.Status)
	}
	return nil
}

// auditRoutes registers the ledger queries for auditors.
func (s *Server) auditRoutes(admin *gin.RouterGroup) {
	admin.GET("/audit", s.findAudit)
}
