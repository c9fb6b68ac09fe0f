package proxy

import (
	"strings"

	"github.com/ds4p/ds4p/internal/fjson"
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

// untoldSubject reports whether the resource b has a top-level subject,
// patient or beneficiary that may name a patient but names none the
// labeller read: only a display, a urn:uuid or urn:oid, a Patient
// reference it could not read (an id no FHIR id is), a bare id. Such a
// resource is someone's record, the proxy cannot tell whose: a caller
// bound to a patient's compartment must not read it as data about no
// patient (resolvePatients). A reference to another resource type (a
// Group, a Device, a Location), by its reference or its type, and a
// contained one ("#id", settled with its container) name no patient.
//
// The member written otherwise than as one Reference object (invalid FHIR
// JSON, but a server may store it, and other readers show it): an array
// is untold when any of its elements is, and a string or a number may
// name anyone ("Patient/p2"). Read as naming no patient, an array of one
// Reference with only a display, or such a string, put another person's
// record inside every compartment (QA round 34, area A). null names none.
func untoldSubject(b []byte) bool {
	for _, key := range [...]string{"subject", "patient", "beneficiary"} {
		vs, _, ok, err := fjson.Lookup(b, 0, key)
		if err != nil {
			return true
		}
		if !ok {
			continue
		}
		switch b[vs] {
		case 'n': // null
		case '{':
			if untoldReference(b, vs) {
				return true
			}
		case '[':
			untold := false
			err := fjson.ArrayEach(b, vs, func(es, _ int) error {
				untold = untold || b[es] != '{' && b[es] != 'n' || b[es] == '{' && untoldReference(b, es)
				return nil
			})
			if err != nil || untold {
				return true
			}
		default:
			return true
		}
	}
	return false
}

// untoldReference reports whether the Reference object at vs may name a
// patient (untoldSubject).
func untoldReference(b []byte, vs int) bool {
	if ts, te, ok, _ := fjson.Lookup(b, vs, "type"); ok {
		if typ, _ := fjson.StringValue(b, ts, te); typ != "" && typ != "Patient" {
			return false
		}
	}
	ref := ""
	if rs, re, ok, _ := fjson.Lookup(b, vs, "reference"); ok {
		ref, _ = fjson.StringValue(b, rs, re)
	}
	if strings.HasPrefix(ref, "#") {
		return false
	}
	if typ := referenceType(ref); typ != "" && typ != "Patient" {
		return false
	}
	return true
}

// referenceType is the resource type a literal reference names (relative
// Type/id or an absolute URL ending in Type/id, either with /_history/v),
// "" when it names none (a urn, a bare id, a search).
func referenceType(ref string) string {
	if i := strings.IndexAny(ref, "?#"); i >= 0 {
		ref = ref[:i]
	}
	if strings.HasPrefix(ref, "urn:") {
		return ""
	}
	segs := strings.Split(ref, "/")
	if n := len(segs); n >= 4 && segs[n-2] == "_history" {
		segs = segs[:n-2]
	}
	if len(segs) < 2 {
		return ""
	}
	typ := segs[len(segs)-2]
	if typ == "" || typ[0] < 'A' || typ[0] > 'Z' {
		return ""
	}
	for i := 0; i < len(typ); i++ {
		if c := typ[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return ""
		}
	}
	return typ
}
