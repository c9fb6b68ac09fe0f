package proxy

import (
	"strings"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/internal/reqid"
)

// selfAccess reports whether the caller is the patient reading their own
// record: the token's fhirUser is patient (a Patient, whose base authn and
// checkFHIRUserBase checked), and the item is patient's by its own
// subject, patient or beneficiary (labels.Result.SubjectPatient), not
// merely one that mentions them (an author, a performer, an extension) or
// names them on a compartment path only: a note another patient's record
// holds about them is not theirs to read under the right of access.
//
// The labeller reads references loosely, as a server might resolve them,
// so that no spelling hides a patient from the policy; the right of access
// needs the opposite, a reference that names this patient and nothing
// else. So the item's own subject, patient or beneficiary reference must
// be exactly Patient/ID (or Patient/ID/_history/V), relative or directly
// below the upstream's base or an alias (its scheme and host in any
// equivalent spelling, sameServer): not another server's Patient with
// the same id, not Patient/pb/Patient/pa or Patient/pa/_history/../../x.
// An item that names its patient by identifier (resolved to this patient,
// patient_identity.go) and a Patient resource itself count without one.
func (r *run) selfAccess(it *item, patient string) bool {
	if patient == "" || r.ex.caller.FHIRUser != patient || it.res.SubjectPatient != patient {
		return false
	}
	if it.res.Type == "Patient" {
		return true
	}
	b := r.body[it.start:it.end]
	found := false
	for _, key := range [...]string{"subject", "patient", "beneficiary"} {
		vs, _, ok, err := fjson.Lookup(b, 0, key)
		if err != nil {
			return false
		}
		if !ok || b[vs] != '{' {
			continue
		}
		rs, re, ok, err := fjson.Lookup(b, vs, "reference")
		if err != nil {
			return false
		}
		if !ok {
			continue // an identifier, resolved to this patient
		}
		ref, ok := fjson.StringValue(b, rs, re)
		if !ok || !r.s.ownPatientRef(ref, patient) {
			return false
		}
		found = true
	}
	return found || it.res.PatientIdentifier != ""
}

// ownPatientRef reports whether ref is exactly patient ("Patient/ID"),
// optionally with /_history/V, relative or directly below the upstream's
// base or one of its aliases, spelled plainly (exactLocalPath: the
// server's name in any equivalent spelling, the rest as written).
func (s *Server) ownPatientRef(ref, patient string) bool {
	if strings.Contains(ref, "://") {
		rest, ok := s.exactLocalPath(ref)
		if !ok {
			return false
		}
		ref = rest
	}
	rest, ok := strings.CutPrefix(ref, patient)
	if !ok {
		return false
	}
	if rest == "" {
		return true
	}
	v, ok := strings.CutPrefix(rest, "/_history/")
	return ok && v != "" && reqid.Plain(v) && !strings.Contains(v, "..")
}
