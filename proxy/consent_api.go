package proxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/gin-gonic/gin"
)

// consentRoutes registers the consent API for consent managers.
func (s *Server) consentRoutes(admin *gin.RouterGroup) {
	admin.POST("/Consent", s.postConsent)
	admin.GET("/Consent", s.searchConsents)
	admin.GET("/Consent/:id", s.readConsent)
}

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
