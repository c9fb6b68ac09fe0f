package proxy

import (
	"strings"

	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy/authn"
)

// The response side of the SMART patient compartment (see scopes.go): a
// token with a patient claim sees only items of that patient. decide.go
// asks outsideCompartment for each decision class before evaluating policy.
// The patient of an item is the labeller's (labels.Result.Patient): found
// through the FHIR R4 Patient compartment paths of its type (Appointment
// participant.actor, Task.for, Group member.entity ...), or, when none
// names one, any Patient it refers to, so that a resource naming another
// patient anywhere is outside; resources that refer to no Patient
// (Practitioner, Organization, Medication, terminology) belong to none and
// stay readable. An item that names several patients
// (labels.Result.Patients) is decided as each one's (multiPatientClass):
// it is inside only if every one of them is the token's patient.

// compartmentRule names the denial in the ledger's reasons.
const compartmentRule = "smart.patient_compartment"

// outsideCompartment reports whether items of patient ("Patient/ID", "" for
// items that belong to no patient) are outside the caller's compartment.
// Callers without a patient claim (user/ and system/ tokens) are not bound
// to one.
func outsideCompartment(caller authn.Caller, patient string) bool {
	if caller.Patient == "" || patient == "" {
		return false
	}
	return patient != "Patient/"+strings.TrimPrefix(caller.Patient, "Patient/")
}

// compartmentDenial is the decision of a class outside the compartment.
func compartmentDenial() policy.Decision {
	return policy.Decision{
		Effect:  policy.Deny,
		Reasons: []policy.Reason{{Rule: compartmentRule, Message: "outside the token's patient compartment"}},
	}
}
