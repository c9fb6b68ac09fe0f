package proxy

import (
	"net/http"
	"testing"
	"time"
)

// TestReadOnlyOperationsAreNoWrites: an operation that writes nothing, sent
// by POST ($everything, $match ...), is not followed as a write: it dropped
// every upstream cache and made responses under way read afresh, for all
// callers (QA round 32, area F's note). One that may write a Consent, an
// actor or a Patient's identifiers still is, as are writes; $meta-add and
// $summary on a Patient write its labels or a document Bundle and are
// followed only on a Consent (QA round 37, area A).
func TestReadOnlyOperationsAreNoWrites(t *testing.T) {
	t.Parallel()
	u := newUpstreamSetup(t, ConsentSources{Upstream: UpstreamOnDemand, TTL: time.Hour, PatientIdentifierSystem: "urn:mrn"})
	m := u.server.consents.(*sourcedConsents)
	for _, c := range []struct {
		req   fhirRequest
		write bool
	}{
		{fhirRequest{Interaction: Operation, Type: "Patient", ID: "p1", Operation: "$everything"}, false},
		{fhirRequest{Interaction: Operation, Type: "Patient", Operation: "$match"}, false},
		{fhirRequest{Interaction: Operation, Operation: "$validate"}, false},
		{fhirRequest{Interaction: Operation, Type: "Patient", ID: "p1", Operation: "$meta-add"}, false},
		{fhirRequest{Interaction: Operation, Type: "Patient", ID: "p1", Operation: "$summary"}, false},
		{fhirRequest{Interaction: Operation, Type: "Consent", ID: "c1", Operation: "$meta-add"}, true},
		{fhirRequest{Interaction: Operation, Type: "Patient", ID: "p1", Operation: "$merge"}, true},
		{fhirRequest{Interaction: Operation, Operation: "$process-message"}, true},
		{fhirRequest{Interaction: Update, Type: "Patient", ID: "p1"}, true},
	} {
		before := m.written.epoch.Load()
		m.s.consentWriting(http.MethodPost, c.req)()
		if wrote := m.written.epoch.Load() != before; wrote != c.write {
			t.Errorf("%s %s: followed as a write %v, want %v", c.req.Type, c.req.Operation, wrote, c.write)
		}
	}
}
