package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// A FHIR server may answer Consent?patient:identifier= without honouring
// the modifier: Medplum's in-memory repository matches no reference by
// identifier, and HAPI FHIR read "identifier" as a resource type before it
// began refusing the modifier (its issue 1822, HAPI-2498). Such a server
// answers an empty searchset, 200, to every such search, and the consents naming a patient by an MRN alone, an opt-out
// among them, went unread: the response was sent as though the patient had
// none. R4 says a server SHALL reject a modifier it does not support, and
// ds4p fails closed when one does (identifierRefused); a server that
// answers wrongly cannot be told by its answer alone. So before the search
// is trusted it is checked against a known answer: a consent the upstream
// holds that names its patient by an identifier of
// consents.patient_identifier_system alone must be among the consents the
// search finds for that identifier.

// The states of the check (sourcedConsents.identifierProbe).
const (
	// identifierSearchUnverified: no consent naming its patient by such an
	// identifier has been found to check the search against (or the check
	// could not be run); the search is used, and checked again later.
	identifierSearchUnverified int32 = iota
	// identifierSearchAnswers: the search found the known consent.
	identifierSearchAnswers
	// identifierSearchIgnores: the search did not find it. Responses that
	// need such a search are withheld until a later check finds it.
	identifierSearchIgnores
)

// identifierProbeEvery is how long after one check another is run while
// the search is not known to answer (sourcedConsents.identifierProbeEvery);
// identifierProbePages bounds the pages of Consent?_count=100 a check reads
// looking for a consent to check with.
const (
	identifierProbeEvery = 10 * time.Minute
	identifierProbePages = 10
)

// checkIdentifierSearch returns an error (identifierSearchIgnored) while
// the upstream is known to answer Consent?patient:identifier= wrongly,
// running the known-answer check first when one is due. Callers wait for
// a check under way, so none trusts the search before the first check.
func (m *sourcedConsents) checkIdentifierSearch(ctx context.Context) error {
	if m.identifierProbeSem == nil {
		return nil
	}
	if m.identifierProbe.Load() == identifierSearchAnswers {
		return m.recheckIdentifierSearch(ctx)
	}
	select {
	case m.identifierProbeSem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-m.identifierProbeSem }()
	state := m.identifierProbe.Load()
	if state != identifierSearchAnswers && (m.identifierProbedAt.IsZero() || time.Since(m.identifierProbedAt) >= m.identifierProbeEvery) {
		m.identifierProbedAt = time.Now()
		if got, err := m.probeIdentifierSearch(ctx); err != nil {
			// errString: a url.Error's URL names the identifier searched.
			m.s.log.Warn("could not check the FHIR server's Consent?patient:identifier= search against a known answer; "+
				"it is checked again on the next response that needs it", "error", errString(err))
			// A server refusing the check's own reads (4xx but 429)
			// is left unverified, as before, and asked again in 10
			// minutes: run again before every response, the refused
			// check cost each one an upstream request and a warning,
			// one response at a time (QA round 33, area G).
			var status upstreamStatusError
			if !(errors.As(err, &status) && status >= 400 && status < 500 && status != 429) {
				// Not in 10 minutes: a request cancelled mid-check left a
				// server that ignores the modifier trusted until then.
				m.identifierProbedAt = time.Time{}
				// Nor trusted by the response whose check failed (a 503 of
				// a busy upstream, a dropped connection): it was served as
				// if the check had passed, the MRN opt-out unread (QA round
				// 33, area E).
				if state == identifierSearchUnverified {
					return fmt.Errorf("checking the FHIR server's Consent?patient:identifier= search: %w", err)
				}
			}
		} else if got != state {
			switch got {
			case identifierSearchIgnores:
				m.s.log.Warn("the FHIR server's Consent?patient:identifier= search does not find a consent it holds that names " +
					"its patient by that identifier (it answers without honouring the :identifier modifier); responses that need " +
					"a patient's consents are withheld until it does, or until consents.patient_identifier_system is unset or " +
					"consents.upstream is sync")
			case identifierSearchAnswers:
				m.s.log.Info("the FHIR server's Consent?patient:identifier= search finds the consents naming their patient by identifier")
			}
			state = got
			m.identifierProbe.Store(got)
		}
		if state == identifierSearchAnswers {
			m.identifierRecheckAt.Store(time.Now().Add(m.identifierProbeEvery).UnixNano())
		}
	}
	if state == identifierSearchIgnores {
		return identifierSearchIgnored{}
	}
	return nil
}

// recheckIdentifierSearch runs the known-answer check again, once
// identifierProbeEvery has passed since the search was last found to
// answer, on the response that finds it due and the check not under way;
// the responses meanwhile trust the search, as they did, without waiting.
// Trusted once, the search was trusted for good: an upstream replaced
// under the same URL (a failover, a restore onto another server, an
// upgrade) that answers it without honouring the modifier left every
// opt-out naming its patient by MRN unread, and the patient's records went
// out under its permit, until the proxy restarted. A check that finds the
// search ignoring the modifier now withholds as the first check does; one
// that cannot be run (the upstream failing, no consent by identifier to
// check with) leaves the search trusted and is run again when next due.
func (m *sourcedConsents) recheckIdentifierSearch(ctx context.Context) error {
	if time.Now().UnixNano() < m.identifierRecheckAt.Load() {
		return nil
	}
	select {
	case m.identifierProbeSem <- struct{}{}:
	default:
		return nil // under way
	}
	defer func() { <-m.identifierProbeSem }()
	if m.identifierProbe.Load() != identifierSearchAnswers || time.Now().UnixNano() < m.identifierRecheckAt.Load() {
		return nil
	}
	m.identifierProbedAt = time.Now()
	m.identifierRecheckAt.Store(m.identifierProbedAt.Add(m.identifierProbeEvery).UnixNano())
	got, err := m.probeIdentifierSearch(ctx)
	switch {
	case err != nil:
		m.s.log.Warn("could not check again the FHIR server's Consent?patient:identifier= search against a known answer; "+
			"it stays trusted and is checked again later", "error", errString(err))
	case got == identifierSearchIgnores:
		m.identifierProbe.Store(got)
		m.s.log.Warn("the FHIR server's Consent?patient:identifier= search no longer finds a consent it holds that names " +
			"its patient by that identifier (it answers without honouring the :identifier modifier); responses that need " +
			"a patient's consents are withheld until it does, or until consents.patient_identifier_system is unset or " +
			"consents.upstream is sync")
		return identifierSearchIgnored{}
	}
	return nil
}

// probeIdentifierSearch runs the known-answer check: it looks, in at most
// identifierProbePages pages of the upstream's consents, for one naming its
// patient by an identifier of consents.patient_identifier_system alone, and
// searches Consent?patient:identifier= for that identifier. Unverified when
// there is none to look for.
func (m *sourcedConsents) probeIdentifierSearch(ctx context.Context) (int32, error) {
	system := m.cfg.PatientIdentifierSystem
	var known struct{ id, value string }
	path := "/Consent?" + url.Values{"_count": {"100"}}.Encode()
	for range identifierProbePages {
		page, err := m.s.getJSON(ctx, path, maxConsentPage)
		if err != nil {
			return identifierSearchUnverified, err
		}
		var b searchBundleJSON
		if json.Unmarshal(page, &b) != nil || b.ResourceType != "Bundle" {
			return identifierSearchUnverified, errors.New("the FHIR server's Consent search did not answer a Bundle")
		}
		for _, e := range b.Entry {
			var c struct {
				ResourceType string `json:"resourceType"`
				ID           string `json:"id"`
				Patient      struct {
					Reference  string `json:"reference"`
					Identifier struct {
						System string `json:"system"`
						Value  string `json:"value"`
					} `json:"identifier"`
				} `json:"patient"`
			}
			if json.Unmarshal(e.Resource, &c) == nil && c.ResourceType == "Consent" && c.ID != "" &&
				c.Patient.Reference == "" && c.Patient.Identifier.System == system && c.Patient.Identifier.Value != "" {
				known.id, known.value = c.ID, c.Patient.Identifier.Value
				break
			}
		}
		if known.id != "" {
			break
		}
		next := ""
		for _, l := range b.Link {
			if hasRelation(l.Relation, "next") {
				next = l.URL
			}
		}
		var ok bool
		if path, ok = m.s.nextPage(next, "/Consent"); next == "" || !ok {
			break
		}
	}
	if known.id == "" {
		return identifierSearchUnverified, nil
	}
	q := url.Values{"patient:identifier": {searchEscape(system) + "|" + searchEscape(known.value)}, "_count": {"100"}}
	found := false
	err := m.s.upstreamConsentSearch(ctx, q, m.cfg.MaxConsents, func(raw []byte) {
		var c struct {
			ResourceType string `json:"resourceType"`
			ID           string `json:"id"`
		}
		if json.Unmarshal(raw, &c) == nil && c.ResourceType == "Consent" && c.ID == known.id {
			found = true
		}
	})
	if err != nil {
		// A refusal is told to the operator by the search itself
		// (identifierRefused); any other failure leaves it unverified.
		return identifierSearchUnverified, err
	}
	if found {
		return identifierSearchAnswers, nil
	}
	return identifierSearchIgnores, nil
}

// identifierSearchIgnored is the error, and the readiness detail, while
// the upstream answers Consent?patient:identifier= without finding a
// consent it holds that names its patient by that identifier: degraded, not
// failed, since responses that need no such search still go out.
type identifierSearchIgnored struct{}

func (identifierSearchIgnored) Error() string {
	return "the FHIR server's Consent?patient:identifier= search (consents.patient_identifier_system) does not find " +
		"a consent it holds that names its patient by that identifier: it may not honour the :identifier modifier; " +
		"responses that need a patient's consents are withheld until it does, or the setting is unset, or " +
		"consents.upstream is sync"
}

func (identifierSearchIgnored) Degraded() bool { return true }
