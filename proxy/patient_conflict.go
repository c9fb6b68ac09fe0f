package proxy

import (
	"context"

	"github.com/ds4p/ds4p/policy"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
)

// A resource whose top-level subject, patient and beneficiary name
// different patients (labels.Result.PatientConflict) belongs to no patient
// the proxy can tell: deciding it as either one's could disclose one
// patient's record under the other's consent, and deciding it as no one's
// would read it as ordinary data. It is withheld on its own, as a denied
// item is (a searchset drops it and its total, a read answers 404, a
// contained one withholds its container), and the rest of the response
// goes on: one malformed resource no longer withholds every response that
// touches it.
//
// The labeller leaves such a resource without any patient; conflictPatient
// stands in for one (markPatientConflicts), so that nothing that reads ""
// as "about no patient" sees it, it shares no class with a real patient or
// with patient-less data, and evaluateItem denies its class before policy,
// the consent store or the decision cache are asked.

// conflictPatient stands for the patient of a resource whose subject,
// patient and beneficiary name different patients: no real id contains
// '?', so it shares no class, consent or compartment with any real patient
// (nor with unresolvedPatient).
const conflictPatient = "Patient/?conflict"

// conflictRule names the denial of such resources (/admin/decide).
const conflictRule = "ds4p.patient_conflict"

// patientConflicts counts the resources withheld because their subject,
// patient and beneficiary name different patients.
var patientConflicts, _ = otel.Meter("github.com/ds4p/ds4p/proxy").Int64Counter("ds4p.labels.patient_conflicts",
	metric.WithDescription("resources withheld because their subject, patient and beneficiary name different patients"))

// markPatientConflicts gives every item and contained resource the
// labeller flagged (labels.Result.PatientConflict) conflictPatient, before
// anything reads their patient, and logs and counts them: the count and
// the request only, never the resources or the patients they name.
func (r *run) markPatientConflicts(ctx context.Context) {
	n := 0
	mark := func(it *item) {
		if it.res.PatientConflict {
			it.res.Patient, it.res.SubjectPatient, it.res.Patients, it.res.PatientIdentifier = conflictPatient, "", nil, ""
			n++
		}
	}
	for _, it := range r.items {
		mark(it)
		for _, c := range it.contained {
			mark(c)
		}
	}
	if n == 0 {
		return
	}
	patientConflicts.Add(ctx, int64(n))
	r.s.log.Warn("resources withheld: whose record each is cannot be told (their subject, patient and beneficiary name different patients, one is another server's, or a Binary's securityContext names no resource that can be read)",
		"request_id", r.requestID(), "items", n)
}

// requestID is the request the run answers, "" when it has none.
func (r *run) requestID() string {
	if r.ex == nil {
		return ""
	}
	return r.ex.requestID
}

// conflictDenial is the decision of a class of conflictPatient.
func conflictDenial() policy.Decision {
	return policy.Decision{
		Effect:  policy.Deny,
		Reasons: []policy.Reason{{Rule: conflictRule, Message: "whose record it is cannot be told: its subject, patient and beneficiary name different patients, one names another server's patient, or, for a Binary, its securityContext names no resource that can be read (missing, another server's, another Binary)"}},
	}
}

// placeholderPatient reports whether p stands for a patient no real one is
// (unresolvedPatient, conflictPatient): always withheld, never asked about
// in the consent store, recorded in the ledger under no patient.
func placeholderPatient(p string) bool {
	return p == unresolvedPatient || p == conflictPatient
}
