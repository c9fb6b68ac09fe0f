package proxy

import (
	"strings"

	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy/authn"
)

// The response side of the SMART patient compartment (see scopes.go): a
// token with a patient claim sees only items of that patient. decide.go
// asks outsideCompartment for each decision class before evaluating policy.

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
