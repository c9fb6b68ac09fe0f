package proxy

import (
	"cmp"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/siem"
	"github.com/gin-gonic/gin"
)

// consentRoutes registers the consent API for consent managers: FHIR create,
// read, update, vread, history and search of Consent, and the $revoke
// operation. Every answer is FHIR JSON; every error an OperationOutcome.
func (s *Server) consentRoutes(admin *gin.RouterGroup) {
	admin.POST("/Consent", s.createConsent)
	admin.GET("/Consent", s.searchConsents)
	admin.GET("/Consent/:id", s.readConsent)
	admin.PUT("/Consent/:id", s.updateConsent)
	admin.GET("/Consent/:id/_history", s.consentHistory)
	admin.GET("/Consent/:id/_history/:vid", s.vreadConsent)
	admin.POST("/Consent/:id/$revoke", s.revokeConsent)
}

// maxConsentBytes bounds a consent submitted to the admin API.
const maxConsentBytes = consent.DefaultMaxSize

// createConsent stores a new consent under an id the store assigns (any id
// in the body is ignored, as FHIR create says): 201 with Location. A
// conditional create (If-None-Exist) is refused, nothing stored: the store
// cannot search by the criteria a client would name (identifier), and
// ignoring the header would store a second copy at every retry.
func (s *Server) createConsent(c *gin.Context) {
	if _, conditional := c.Request.Header["If-None-Exist"]; conditional {
		writeOutcome(c.Writer, http.StatusBadRequest, "not-supported",
			"conditional create (If-None-Exist) is not supported on /admin/Consent, and nothing was stored; search first (GET /admin/Consent?patient=Patient/ID), then create, or PUT /admin/Consent/ID to store a consent under an id of your own")
		return
	}
	raw, ok := s.consentBody(c)
	if !ok {
		return
	}
	rec, err := s.manager().Create(authorContext(c), raw)
	if err != nil {
		s.consentError(c, err)
		return
	}
	s.consentChanged(c, siem.ConsentCreated, rec)
	s.writeConsent(c, http.StatusCreated, rec)
}

// updateConsent stores a new version of consent :id, or its first (201);
// If-Match: W/"n" makes it conditional on the current version (412).
func (s *Server) updateConsent(c *gin.Context) {
	ifMatch, err := parseIfMatch(c.GetHeader("If-Match"))
	if err != nil {
		writeOutcome(c.Writer, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	raw, ok := s.consentBody(c)
	if !ok {
		return
	}
	rec, err := s.manager().Update(authorContext(c), c.Param("id"), raw, ifMatch)
	if err != nil {
		s.consentError(c, err)
		return
	}
	status, action := http.StatusOK, siem.ConsentUpdated
	if rec.Version == 1 {
		status, action = http.StatusCreated, siem.ConsentCreated
	}
	s.consentChanged(c, action, rec)
	s.writeConsent(c, status, rec)
}

// consentBody reads and checks a submitted consent before the store sees it:
// JSON content type, size, validity, and a patient the upstream knows. On
// failure it has answered and returns false.
func (s *Server) consentBody(c *gin.Context) ([]byte, bool) {
	if !jsonContent(c.GetHeader("Content-Type")) {
		writeOutcome(c.Writer, http.StatusUnsupportedMediaType, "not-supported", "a Consent must be sent as application/fhir+json")
		return nil, false
	}
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxConsentBytes))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		writeOutcome(c.Writer, http.StatusRequestEntityTooLarge, "too-costly",
			"a Consent may not exceed "+strconv.Itoa(maxConsentBytes)+" bytes; nothing was stored")
		return nil, false
	case err != nil:
		writeOutcome(c.Writer, http.StatusBadRequest, "incomplete", "the request body could not be read; nothing was stored")
		return nil, false
	}
	raw, ok := s.patientByIdentifierIn(c, raw)
	if !ok {
		return nil, false
	}
	rel, ok := fhirRelease(c.GetHeader("Content-Type"))
	if !ok {
		writeOutcome(c.Writer, http.StatusUnsupportedMediaType, "not-supported",
			"a Consent must be FHIR R4 (fhirVersion=4.0) or R5 (fhirVersion=5.0); nothing was stored")
		return nil, false
	}
	info, err := consent.ValidateRelease(raw, rel)
	if err != nil {
		s.consentError(c, err)
		return nil, false
	}
	return raw, s.patientKnown(c, info.Patient, consent.PatientPath(raw)) && s.actorsKnown(c, raw)
}

// patientByIdentifierIn fills in the reference of a consent's patient given
// only by an identifier of the configured system (ConsentSources.
// PatientIdentifierSystem), from the one upstream Patient that has it: 422
// when none or several do, 502 when the upstream cannot tell. Any other
// consent passes unchanged (validation then judges it).
func (s *Server) patientByIdentifierIn(c *gin.Context, raw []byte) ([]byte, bool) {
	sc, ok := s.consents.(*sourcedConsents)
	if !ok || sc.cfg.PatientIdentifierSystem == "" {
		return raw, true
	}
	system, value, ok := consent.PatientIdentifier(raw)
	if !ok || system != sc.cfg.PatientIdentifierSystem {
		return raw, true
	}
	ref, err := s.identifiedPatient(c.Request.Context(), system, value) // the answer checked, not taken on trust (patient_identity.go)
	switch {
	case errors.Is(err, errPatientUnmatched):
		c.Data(http.StatusUnprocessableEntity, fhirJSON, issuesOutcome("not-found", []consent.Problem{{
			Path: "Consent.patient.identifier", Message: "matches no single patient on the FHIR server; nothing was stored"}}))
		return nil, false
	case err != nil:
		s.log.Warn("consent patient lookup failed", "request_id", c.GetString(requestIDKey), "error", errString(err))
		writeOutcome(c.Writer, http.StatusBadGateway, "transient",
			"the FHIR server could not find the consent's patient; nothing was stored")
		return nil, false
	}
	filled, err := consent.WithPatientReference(raw, ref)
	if err != nil {
		s.consentError(c, err)
		return nil, false
	}
	return filled, true
}

// fhirRelease reads the fhirVersion parameter of a FHIR media type: R4, R5,
// or auto-detected when absent; false for another version.
func fhirRelease(contentType string) (consent.Release, bool) {
	_, params, _ := mime.ParseMediaType(contentType)
	return consent.ReleaseOf(params["fhirversion"]) // mime lowercases parameter names
}

// actorsKnown answers 422 when actor resolution is configured (a directory,
// the upstream, or both) and some actor reference of the consent is known
// to neither, and 502 when the upstream cannot tell; nothing is stored in
// either case. An actor named by identifier (system|value) is matched as
// written and needs no resolution. Without resolution configured every
// actor is accepted as written.
func (s *Server) actorsKnown(c *gin.Context, raw []byte) bool {
	sc, ok := s.consents.(*sourcedConsents)
	if !ok || sc.resolver == nil {
		return true
	}
	actors, err := consent.Actors(raw)
	if err != nil {
		s.consentError(c, err)
		return false
	}
	var unknown []consent.Problem
	for _, a := range actors {
		if strings.Contains(a, "|") {
			continue
		}
		_, known, err := sc.resolver.ActorForms(c.Request.Context(), a)
		if err != nil {
			s.log.Warn("consent actor check failed", "request_id", c.GetString(requestIDKey), "error", errString(err))
			writeOutcome(c.Writer, http.StatusBadGateway, "transient",
				"the FHIR server could not confirm the consent's actors; nothing was stored")
			return false
		}
		if !known {
			unknown = append(unknown, consent.Problem{Path: "Consent.provision",
				Message: "names the actor " + strconv.Quote(a) + ", which neither the directory nor the FHIR server knows; nothing was stored"})
		}
	}
	if len(unknown) > 0 {
		c.Data(http.StatusUnprocessableEntity, fhirJSON, issuesOutcome("not-found", unknown))
		return false
	}
	return true
}

// patientKnown answers 422 when the upstream does not know the patient and
// 502 when it cannot tell; nothing is stored in either case.
func (s *Server) patientKnown(c *gin.Context, patient, path string) bool {
	err := s.checkPatient(c.Request.Context(), patient)
	switch {
	case err == nil:
		return true
	case errors.Is(err, errNoSuchPatient):
		c.Data(http.StatusUnprocessableEntity, fhirJSON, issuesOutcome("not-found", []consent.Problem{{
			Path: path, Message: "names a patient the FHIR server does not know; nothing was stored"}}))
	default:
		s.log.Warn("consent patient check failed", "request_id", c.GetString(requestIDKey), "error", errString(err))
		writeOutcome(c.Writer, http.StatusBadGateway, "transient",
			"the FHIR server could not confirm that the patient exists; nothing was stored")
	}
	return false
}

// jsonContent reports whether a request body's media type is JSON; a
// missing Content-Type is taken as JSON.
func jsonContent(contentType string) bool {
	if contentType == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/fhir+json" || mt == "application/json")
}

// parseIfMatch reads an If-Match header, W/"3" or "3"; 0 when absent.
func parseIfMatch(h string) (uint64, error) {
	if h == "" {
		return 0, nil
	}
	v := strings.Trim(strings.TrimPrefix(strings.TrimSpace(h), "W/"), `"`)
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n == 0 {
		return 0, errors.New(`If-Match must be a version ETag such as W/"3"`)
	}
	return n, nil
}

// readConsent answers the latest version of consent :id.
func (s *Server) readConsent(c *gin.Context) {
	rec, err := s.manager().Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.consentError(c, err)
		return
	}
	s.writeConsent(c, http.StatusOK, rec)
}

// vreadConsent answers version :vid of consent :id.
func (s *Server) vreadConsent(c *gin.Context) {
	vid, err := strconv.ParseUint(c.Param("vid"), 10, 64)
	if err != nil {
		s.consentError(c, consent.ErrNotFound)
		return
	}
	rec, err := s.manager().Version(c.Request.Context(), c.Param("id"), vid)
	if err != nil {
		s.consentError(c, err)
		return
	}
	s.writeConsent(c, http.StatusOK, rec)
}

// consentHistory answers every version of consent :id, newest first, as a
// history Bundle.
func (s *Server) consentHistory(c *gin.Context) {
	recs, err := s.manager().History(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.consentError(c, err)
		return
	}
	c.Data(http.StatusOK, fhirJSON, historyBundle(s.adminBase(c.Request), recs))
}

// searchConsents answers GET /admin/Consent?patient=&status=&actor=&category=&period=
// with a searchset Bundle of the latest version of each matching consent.
func (s *Server) searchConsents(c *gin.Context) {
	q, err := consent.ParseQuery(c.Request.URL.Query())
	if err != nil {
		s.consentError(c, err)
		return
	}
	recs, err := s.manager().Search(c.Request.Context(), q)
	if err != nil {
		s.consentError(c, err)
		return
	}
	c.Data(http.StatusOK, fhirJSON, searchBundle(s.adminBase(c.Request), recs))
}

// revokeConsent runs $revoke: a new version of consent :id with status
// inactive (or the status given as a Parameters "status" valueCode, or the
// status query parameter: entered-in-error, rejected). Earlier versions stay.
// Revoking a consent that already has that status changes nothing (200).
func (s *Server) revokeConsent(c *gin.Context) {
	status, err := revokeStatus(c)
	if err != nil {
		writeOutcome(c.Writer, http.StatusBadRequest, "invalid", err.Error())
		return
	}
	rec, changed, err := s.manager().Revoke(authorContext(c), c.Param("id"), status)
	if err != nil {
		s.consentError(c, err)
		return
	}
	if changed {
		s.consentChanged(c, siem.ConsentRevoked, rec)
	}
	s.writeConsent(c, http.StatusOK, rec)
}

// consentChanged makes a consent change attributable (the store's record
// names no author): one log line with the actor's subject, organisation
// and client, the action, version and status, and a consent_changed
// security event with the consent id, queued durably before the answer.
// Neither names the consent's patient; the log line names no consent id
// either (a PUT chooses it, and may spell a patient's), the event does,
// hashed or dropped by the SIEM export's patient_ids.
func (s *Server) consentChanged(c *gin.Context, action string, rec consent.Record) {
	actor := callerOf(c)
	version := strconv.FormatUint(rec.Version, 10)
	s.log.Info("consent changed", "request_id", c.GetString(requestIDKey), "action", action,
		"consent_version", version, "consent_status", rec.Status,
		"actor_subject", logSubject(actor), "actor_org", actor.Org, "actor_client", actor.Client)
	s.securityEvent(c, siem.Event{Kind: siem.KindConsentChanged, Severity: siem.SeverityNotice,
		Subject: logSubject(actor), Org: actor.Org, Client: actor.Client,
		Action: action, Consent: rec.ID, ConsentVersion: version, Reason: "consent status " + rec.Status})
}

// consentError maps a consent store error to an OperationOutcome: one issue
// per validation problem (400; 422 for a version that would move the
// consent to another patient, or a permit naming only another server's
// records as its data), 404, 412, 501, or 500.
func (s *Server) consentError(c *gin.Context, err error) {
	var ve *consent.ValidationError
	switch {
	case errors.Is(err, consent.ErrPatientChanged) && errors.As(err, &ve):
		// Well-formed, but against the store's rule that a consent stays
		// with its patient: FHIR's 422 business-rule, as for a patient
		// unknown to the FHIR server.
		c.Data(http.StatusUnprocessableEntity, fhirJSON, issuesOutcome("business-rule", ve.Problems))
	case errors.Is(err, consent.ErrForeignData) && errors.As(err, &ve):
		// Well-formed, but a permit of another server's record matches
		// nothing this server answers: 422, so that whoever wrote it does
		// not believe the record disclosed.
		c.Data(http.StatusUnprocessableEntity, fhirJSON, issuesOutcome("business-rule", ve.Problems))
	case errors.As(err, &ve):
		c.Data(http.StatusBadRequest, fhirJSON, issuesOutcome("invalid", ve.Problems))
	case errors.Is(err, consent.ErrNotFound):
		writeOutcome(c.Writer, http.StatusNotFound, "not-found", "no such consent or version")
	case errors.Is(err, consent.ErrConflict):
		writeOutcome(c.Writer, http.StatusPreconditionFailed, "conflict", "the consent has a newer version than If-Match names; nothing was stored")
	case errors.Is(err, errNotSupported):
		writeOutcome(c.Writer, http.StatusNotImplemented, "not-supported", err.Error())
	case errors.Is(err, context.Canceled):
		writeFailure(c.Writer, classify(err))
	default:
		s.log.Error("consent store failed", "request_id", c.GetString(requestIDKey), "error", storeCause(err, c.Param("id")))
		writeOutcome(c.Writer, http.StatusInternalServerError, "exception", "the consent store failed; nothing was changed")
	}
}

// storeCause renders a consent store failure for the log without the
// consent id, which the proxy never logs (a PUT chooses it, and may spell a
// patient's): the store wraps ids into its errors ("consent: getting <id>:
// ..."), so the log gets the innermost cause, without quoted text
// (errString), and with the id the request named withheld should the cause
// still spell it.
func storeCause(err error, id string) string {
	for inner := errors.Unwrap(err); inner != nil; inner = errors.Unwrap(err) {
		err = inner
	}
	msg := errString(err)
	if id != "" {
		msg = strings.ReplaceAll(msg, id, "(id withheld)")
	}
	return msg
}

// writeConsent answers one stored version with its ETag, Last-Modified and
// (on 201) Location.
func (s *Server) writeConsent(c *gin.Context, status int, rec consent.Record) {
	h := c.Writer.Header()
	version := strconv.FormatUint(rec.Version, 10)
	h.Set("ETag", `W/"`+version+`"`)
	h.Set("Last-Modified", rec.Updated.UTC().Format(http.TimeFormat))
	if status == http.StatusCreated {
		h.Set("Location", s.adminBase(c.Request)+"/Consent/"+rec.ID+"/_history/"+version)
	}
	c.Data(status, fhirJSON, rec.JSON)
}

// adminBase is the admin API's base URL as callers see it: the public FHIR
// base with /fhir replaced by /admin.
func (s *Server) adminBase(r *http.Request) string {
	return strings.TrimSuffix(s.publicBase(r), "/fhir") + "/admin"
}

// authorContext is the request's context naming its caller as the author
// of the consent version it writes (consent.Record.Author), as the command
// line names its user: ds4p consent list and show --history print it.
func authorContext(c *gin.Context) context.Context {
	caller := callerOf(c)
	author := "admin API by " + cmp.Or(caller.Subject, "(no subject)")
	var parts []string
	if caller.Org != "" {
		parts = append(parts, "org "+caller.Org)
	}
	if caller.Client != "" {
		parts = append(parts, "client "+caller.Client)
	}
	if len(parts) > 0 {
		author += " (" + strings.Join(parts, ", ") + ")"
	}
	return consent.AuthorContext(c.Request.Context(), author)
}
