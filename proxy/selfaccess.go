package proxy

import (
	"context"
	"slices"
	"strings"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/internal/reqid"
	"github.com/ds4p/ds4p/labels"
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
	return r.s.ownRecord(r.body[it.start:it.end], it.res, patient)
}

// ownRecord is selfAccess's test of a resource's own members: every
// subject, patient and beneficiary reference of b (a resource labelled
// res) names exactly patient, and one does, or an identifier named it.
func (s *Server) ownRecord(b []byte, res *labels.Result, patient string) bool {
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
		if !ok || !s.ownPatientRef(ref, patient) {
			return false
		}
		found = true
	}
	return found || res.PatientIdentifier != ""
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

// binarySelfAccess is selfAccess for a Binary with a securityContext: the
// resource it names (the DocumentReference whose attachment it is)
// governs access to it, and the labeller gave the Binary that resource's
// labels and patient (labels: securityContexts), so the right of access
// applies to the Binary exactly as to that resource: when the caller,
// reading the target, would be the patient reading their own record. The
// target is the resource of the response with that Type/id (each one, in
// a history), else the upstream's, read again (the labeller's read is not
// kept): it must name the same patient the Binary took, by the same
// members, spelled exactly (ownRecord). A securityContext that is not
// exactly Type/id (optionally /_history/v), relative or below the
// upstream's base, and a target that cannot be read, grant nothing: the
// Binary is then decided as any other item of the patient's (fail closed).
func (r *run) binarySelfAccess(ctx context.Context, it *item, patient string) (bool, error) {
	if it.res.Type != "Binary" || patient == "" || r.ex.caller.FHIRUser != patient || it.res.SubjectPatient != patient || it.res.PatientConflict {
		return false, nil
	}
	b := r.body[it.start:it.end]
	cs, _, ok, err := fjson.Lookup(b, 0, securityContextKey)
	if err != nil || !ok || b[cs] != '{' {
		return false, nil
	}
	rs, re, ok, err := fjson.Lookup(b, cs, "reference")
	if err != nil || !ok {
		return false, nil
	}
	ref, ok := fjson.StringValue(b, rs, re)
	if !ok {
		return false, nil
	}
	typ, id, ok := r.s.exactResourceRef(ref)
	if !ok || typ == "Binary" {
		return false, nil
	}
	found := false
	for _, t := range r.items {
		if t.res.Type != typ || t.res.ID != id {
			continue
		}
		found = true
		if !r.selfAccess(t, patient) {
			return false, nil
		}
	}
	if found {
		return true, nil
	}
	if r.s.opts.UnknownTargets == TargetsIgnore {
		return false, nil
	}
	tb, err := r.s.fetchTarget(ctx, r.ex, labels.Target{Type: typ, ID: id, Ref: ref})
	if err != nil || tb == nil {
		return false, err
	}
	tr, err := r.s.labeller.Label(tb)
	if err != nil || tr.PatientConflict || tr.PatientIdentifier != it.res.PatientIdentifier || !slices.Equal(tr.Patients, it.res.Patients) {
		return false, nil
	}
	if tr.SubjectPatient != patient && (tr.SubjectPatient != "" || tr.PatientIdentifier == "") {
		return false, nil
	}
	if typ == "Patient" {
		return "Patient/"+tr.ID == patient, nil
	}
	return r.s.ownRecord(tb, &tr, patient), nil
}

// securityContextKey is a Binary's member naming the resource that
// governs access to it (labels: securityContexts).
const securityContextKey = "securityContext"

// exactResourceRef reads ref as exactly Type/id, optionally followed by
// /_history/v, relative or directly below the upstream's base or an alias
// in a plain spelling (exactLocalPath).
func (s *Server) exactResourceRef(ref string) (typ, id string, ok bool) {
	if strings.Contains(ref, "://") {
		if ref, ok = s.exactLocalPath(ref); !ok {
			return "", "", false
		}
	}
	parts := strings.Split(ref, "/")
	switch {
	case len(parts) == 2:
	case len(parts) == 4 && parts[2] == "_history" && reqid.Plain(parts[3]) && !strings.Contains(parts[3], ".."):
	default:
		return "", "", false
	}
	typ, id = parts[0], parts[1]
	if !fhirTypeName(typ) || !reqid.Plain(id) || strings.Contains(id, "..") || id == "." {
		return "", "", false
	}
	return typ, id, true
}

// fhirTypeName reports whether s is spelled as a FHIR resource type: an
// upper-case ASCII letter, then ASCII letters.
func fhirTypeName(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
