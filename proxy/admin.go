package proxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ds4p/ds4p/audit"
	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/gin-gonic/gin"
)

// maxConsentBytes bounds a consent submitted to the admin API.
const maxConsentBytes = 1 << 20

// policyConsents returns the patient's consents in the policy input form.
func (s *Server) policyConsents(ctx context.Context, patient string) ([]any, error) {
	recs, err := s.consents.ForPatient(ctx, patient)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(recs))
	for _, rec := range recs {
		n, err := consent.Normalize(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// postConsent validates and stores a FHIR Consent; an invalid one changes
// nothing and gets one OperationOutcome issue per problem.
func (s *Server) postConsent(c *gin.Context) {
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxConsentBytes))
	if err != nil {
		writeFailure(c.Writer, classify(err))
		return
	}
	rec, err := s.consents.Put(c.Request.Context(), raw)
	if err != nil {
		s.consentError(c, err)
		return
	}
	c.Writer.Header().Set("Location", "/admin/Consent/"+rec.ID+"/_history/"+strconv.FormatUint(rec.Version, 10))
	c.Writer.Header().Set("ETag", `W/"`+strconv.FormatUint(rec.Version, 10)+`"`)
	c.Data(http.StatusCreated, fhirJSON, rec.JSON)
}

func (s *Server) consentError(c *gin.Context, err error) {
	var ve *consent.ValidationError
	switch {
	case errors.As(err, &ve):
		c.Data(http.StatusBadRequest, fhirJSON, validationOutcome(ve))
	case errors.Is(err, consent.ErrNotFound):
		writeOutcome(c.Writer, http.StatusNotFound, "not-found", "no such consent")
	default:
		s.log.Error("consent store failed", "request_id", c.GetString(requestIDKey), "error", err.Error())
		writeOutcome(c.Writer, http.StatusInternalServerError, "exception", "the consent store failed; nothing was changed")
	}
}

func validationOutcome(ve *consent.ValidationError) []byte {
	b := []byte(`{"resourceType":"OperationOutcome","issue":[`)
	for i, p := range ve.Problems {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"severity":"error","code":"invalid","diagnostics":`...)
		b = fjson.AppendString(b, p.Message)
		if p.Path != "" {
			b = append(b, `,"expression":[`...)
			b = fjson.AppendString(b, p.Path)
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

func (s *Server) readConsent(c *gin.Context) {
	rec, err := s.consents.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.consentError(c, err)
		return
	}
	c.Writer.Header().Set("ETag", `W/"`+strconv.FormatUint(rec.Version, 10)+`"`)
	c.Data(http.StatusOK, fhirJSON, rec.JSON)
}

// searchConsents answers GET /admin/Consent?patient=Patient/x with a
// searchset Bundle of the patient's consents (latest versions).
func (s *Server) searchConsents(c *gin.Context) {
	patient := c.Query("patient")
	if patient == "" {
		writeOutcome(c.Writer, http.StatusBadRequest, "required", "the patient parameter is required, e.g. ?patient=Patient/123")
		return
	}
	if !strings.Contains(patient, "/") {
		patient = "Patient/" + patient
	}
	recs, err := s.consents.ForPatient(c.Request.Context(), patient)
	if err != nil {
		s.consentError(c, err)
		return
	}
	b := []byte(`{"resourceType":"Bundle","type":"searchset","total":`)
	b = strconv.AppendInt(b, int64(len(recs)), 10)
	if len(recs) > 0 {
		b = append(b, `,"entry":[`...)
		for i, rec := range recs {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"fullUrl":`...)
			b = fjson.AppendString(b, "Consent/"+rec.ID)
			b = append(b, `,"resource":`...)
			b = append(b, rec.JSON...)
			b = append(b, `,"search":{"mode":"match"}}`...)
		}
		b = append(b, ']')
	}
	c.Data(http.StatusOK, fhirJSON, append(b, '}'))
}

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
