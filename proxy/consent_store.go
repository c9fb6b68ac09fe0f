package proxy

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/ds4p/ds4p/consent"
)

// consentManager is everything the consent API and the response pipeline use
// of a consent store; *consent.Store is one. A ConsentStore that offers only
// Put, Get and ForPatient is adapted by basicConsents, and the rest of the
// API answers 501.
type consentManager interface {
	ConsentStore
	Create(ctx context.Context, raw []byte) (consent.Record, error)
	Update(ctx context.Context, id string, raw []byte, ifMatch uint64) (consent.Record, error)
	Version(ctx context.Context, id string, version uint64) (consent.Record, error)
	History(ctx context.Context, id string) ([]consent.Record, error)
	Revoke(ctx context.Context, id, status string) (consent.Record, bool, error)
	Search(ctx context.Context, q consent.Query) ([]consent.Record, error)
	Normalized(ctx context.Context, patient string) ([]consent.Normalized, uint64, error)
}

// errNotSupported reports an operation the configured consent store lacks.
var errNotSupported = errors.New("the consent store does not support this operation")

// manager returns the consent store as a consentManager.
func (s *Server) manager() consentManager {
	if m, ok := s.consents.(consentManager); ok {
		return m
	}
	return basicConsents{s.consents}
}

// basicConsents adapts a ConsentStore with only the basic operations.
type basicConsents struct{ ConsentStore }

func (b basicConsents) Create(ctx context.Context, raw []byte) (consent.Record, error) {
	return b.Put(ctx, raw)
}

func (basicConsents) Update(context.Context, string, []byte, uint64) (consent.Record, error) {
	return consent.Record{}, errNotSupported
}

func (basicConsents) Version(context.Context, string, uint64) (consent.Record, error) {
	return consent.Record{}, errNotSupported
}

func (basicConsents) History(context.Context, string) ([]consent.Record, error) {
	return nil, errNotSupported
}

func (basicConsents) Revoke(context.Context, string, string) (consent.Record, bool, error) {
	return consent.Record{}, false, errNotSupported
}

// Search supports the patient parameter alone.
func (b basicConsents) Search(ctx context.Context, q consent.Query) ([]consent.Record, error) {
	if q.Patient == "" || len(q.Status)+len(q.Actor)+len(q.Category)+len(q.Period) > 0 {
		return nil, errNotSupported
	}
	return b.ForPatient(ctx, q.Patient)
}

// Normalized reads and normalises every consent of the patient, uncached.
func (b basicConsents) Normalized(ctx context.Context, patient string) ([]consent.Normalized, uint64, error) {
	recs, err := b.ForPatient(ctx, patient)
	if err != nil {
		return nil, 0, err
	}
	out := make([]consent.Normalized, 0, len(recs))
	for _, rec := range recs {
		n, err := consent.Normalize(rec)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, n)
	}
	return out, 0, nil
}

// policyConsents returns the patient's consents in the policy input form.
// The store caches them per patient and consent version, so a stored or
// revoked consent counts from the next request on. The elements point into
// that shared cache: the policy only reads them.
func (s *Server) policyConsents(ctx context.Context, patient string) ([]any, error) {
	ns, _, err := s.manager().Normalized(ctx, patient)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(ns))
	for i := range ns {
		out[i] = &ns[i]
	}
	return out, nil
}

// errNoSuchPatient reports that the upstream does not know a consent's patient.
var errNoSuchPatient = errors.New("the patient does not exist on the FHIR server")

// checkPatient asks the upstream FHIR server whether patient ("Patient/<id>")
// exists: nil when it answers 200, errNoSuchPatient on 404 or 410, and
// another error when it cannot tell.
func (s *Server) checkPatient(ctx context.Context, patient string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.upBase+"/"+patient, nil)
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
	switch {
	case resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return errNoSuchPatient
	}
	return errors.New("the FHIR server answered " + strconv.Itoa(resp.StatusCode) + " to a patient read")
}

// The store the binary wires in serves the whole consent API.
var _ consentManager = (*consent.Store)(nil)
