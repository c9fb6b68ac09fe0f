package labels

import "bytes"

// The patient of a resource is found through the FHIR R4 Patient
// compartment (CompartmentDefinition/patient,
// https://hl7.org/fhir/R4/compartmentdefinition-patient.html): per resource
// type, the search parameters that put a resource in a patient's
// compartment, written here as the element paths those parameters search
// (Appointment's actor is Appointment.participant.actor, Group's member is
// Group.member.entity ...). A reference on such a path counts only when it
// names a Patient (a Practitioner actor is not the patient).
//
// The walk notes every reference to a Patient anywhere in the resource
// (patientRef) with the first and the last member name on its path; once the
// type is known, result keeps those on the type's compartment paths. A
// resource none of whose compartment paths names a Patient, but which
// refers to one elsewhere (an extension, a member the definition does not
// list), belongs to every Patient it refers to: reading it as patient-less
// would put it outside every consent, every patient-context boundary and
// every accounting of disclosures.

// compartmentPath is a member path: top is the resource's member, last the
// member holding the Reference (top again for a top-level Reference).
type compartmentPath struct{ top, last string }

// compartmentPaths are the Patient compartment paths per resource type:
// those of the R4 definition, plus members of the same role the
// definition leaves out where a Patient may stand (Task.for and owner,
// which R4 lists in no compartment; AuditEvent's agent and entity, whose
// "patient" parameter R4 defines on agent.who and entity.what). Top-level
// subject, patient and beneficiary count for every type (patientKeys).
var compartmentPaths = func() map[string][]compartmentPath {
	m := map[string][]compartmentPath{}
	add := func(typ string, paths ...string) {
		for _, p := range paths {
			top, last, ok := bytes.Cut([]byte(p), []byte("."))
			if !ok {
				last = top
			} else if i := bytes.LastIndexByte(last, '.'); i >= 0 {
				last = last[i+1:]
			}
			m[typ] = append(m[typ], compartmentPath{string(top), string(last)})
		}
	}
	add("Account", "subject")
	add("AdverseEvent", "subject")
	add("AllergyIntolerance", "patient", "recorder", "asserter")
	add("Appointment", "participant.actor")
	add("AppointmentResponse", "actor")
	add("AuditEvent", "agent.who", "entity.what")
	add("Basic", "subject", "author")
	add("BodyStructure", "patient")
	add("CarePlan", "subject", "activity.detail.performer")
	add("CareTeam", "subject", "participant.member")
	add("ChargeItem", "subject")
	add("Claim", "patient", "payee.party")
	add("ClaimResponse", "patient")
	add("ClinicalImpression", "subject")
	add("Communication", "subject", "sender", "recipient")
	add("CommunicationRequest", "subject", "sender", "recipient", "requester")
	add("Composition", "subject", "author", "attester.party")
	add("Condition", "subject", "asserter")
	add("Consent", "patient")
	add("Coverage", "policyHolder", "subscriber", "beneficiary", "payor")
	add("CoverageEligibilityRequest", "patient")
	add("CoverageEligibilityResponse", "patient")
	add("DetectedIssue", "patient")
	add("DeviceRequest", "subject", "performer")
	add("DeviceUseStatement", "subject")
	add("DiagnosticReport", "subject")
	add("DocumentManifest", "subject", "author", "recipient")
	add("DocumentReference", "subject", "author")
	add("Encounter", "subject")
	add("EnrollmentRequest", "candidate")
	add("EpisodeOfCare", "patient")
	add("ExplanationOfBenefit", "patient", "payee.party")
	add("FamilyMemberHistory", "patient")
	add("Flag", "subject")
	add("Goal", "subject")
	add("Group", "member.entity")
	add("ImagingStudy", "subject")
	add("Immunization", "patient")
	add("ImmunizationEvaluation", "patient")
	add("ImmunizationRecommendation", "patient")
	add("Invoice", "subject", "recipient")
	add("List", "subject", "source")
	add("MeasureReport", "subject")
	add("Media", "subject")
	add("MedicationAdministration", "subject", "performer.actor")
	add("MedicationDispense", "subject", "receiver")
	add("MedicationRequest", "subject")
	add("MedicationStatement", "subject")
	add("MolecularSequence", "patient")
	add("NutritionOrder", "patient")
	add("Observation", "subject", "performer")
	add("Person", "link.target")
	add("Procedure", "subject", "performer.actor")
	add("Provenance", "target")
	add("QuestionnaireResponse", "subject", "author")
	add("RelatedPerson", "patient")
	add("RequestGroup", "subject", "action.participant")
	add("ResearchSubject", "individual")
	add("RiskAssessment", "subject")
	add("Schedule", "actor")
	add("ServiceRequest", "subject", "performer")
	add("Specimen", "subject")
	add("SupplyDelivery", "patient")
	add("SupplyRequest", "deliverTo")
	add("Task", "for", "owner")
	add("VisionPrescription", "patient")
	return m
}()

// patientRef is a reference to a Patient the walk met: the Patient's id,
// and the first and last member names on the path of the Reference.
type patientRef struct {
	id        []byte
	top, last segment
	foreign   bool // an absolute reference to another server (ruleset.foreignRef)
}

// maxPatientRefs is how many patientRefs the walker keeps without
// allocating; more go to walker.morePatientRefs.
const maxPatientRefs = 4

// notePatientRef records the reference string of c when it names a Patient.
func (w *walker) notePatientRef(c *coding) {
	ref := decodedBytes(w.b, c.ref)
	id := referencedPatient(ref)
	if id == nil || w.depth == 0 || w.path[0].end < 0 {
		return
	}
	pr := patientRef{id: id, top: w.path[0], last: w.path[0], foreign: w.rs.foreignRef(ref)}
	for k := w.depth - 1; k > 0; k-- {
		if w.path[k].end >= 0 {
			pr.last = w.path[k]
			break
		}
	}
	if w.nPatientRefs < maxPatientRefs {
		w.patientRefs[w.nPatientRefs] = pr
		w.nPatientRefs++
		return
	}
	w.morePatientRefs = append(w.morePatientRefs, pr)
}

// onPath reports whether pr lies on one of paths, or is a top-level
// subject, patient or beneficiary.
func (w *walker) onPath(pr *patientRef, paths []compartmentPath) bool {
	top, last := w.b[pr.top.start:pr.top.end], w.b[pr.last.start:pr.last.end]
	if pr.top == pr.last {
		for _, k := range patientKeys {
			if string(top) == k {
				return true
			}
		}
	}
	for _, p := range paths {
		if string(top) == p.top && string(last) == p.last {
			return true
		}
	}
	return false
}

// patientIDs appends to out the distinct ids of the patients the resource
// names (see Result.Patients): first pid (the patient of subject, patient
// or beneficiary), then those on the compartment paths of typ, and, when
// none is on them and identified is false (no subject, patient or
// beneficiary names one by identifier), every Patient it refers to.
func (w *walker) patientIDs(out [][]byte, typ string, pid []byte, identified bool) [][]byte {
	if pid != nil {
		out = append(out, pid)
	}
	if typ == "Patient" {
		return out // a Patient is its own; its links name other records, not it
	}
	n := w.nPatientRefs + len(w.morePatientRefs)
	paths := compartmentPaths[typ]
	for k := range n {
		if pr := w.patientRef(k); w.onPath(pr, paths) {
			out = appendDistinct(out, pr.id)
			w.foreignPatient = w.foreignPatient || pr.foreign
		}
	}
	if len(out) > 0 || identified {
		return out
	}
	for k := range n {
		pr := w.patientRef(k)
		out = appendDistinct(out, pr.id)
		w.foreignPatient = w.foreignPatient || pr.foreign
	}
	return out
}

// patientRef returns the k-th patientRef noted.
func (w *walker) patientRef(k int) *patientRef {
	if k < maxPatientRefs {
		return &w.patientRefs[k]
	}
	return &w.morePatientRefs[k-maxPatientRefs]
}

func appendDistinct(ids [][]byte, id []byte) [][]byte {
	for _, have := range ids {
		if bytes.Equal(have, id) {
			return ids
		}
	}
	return append(ids, id)
}

// AddPatient makes p ("Patient/<id>") one of the patients of r: the
// Patient when r has none, else one more of Patients (a caller that
// resolved a patient identifier to a Patient, as the proxy does).
func (r *Result) AddPatient(p string) {
	switch {
	case p == "" || r.HasPatient(p):
	case r.Patient == "":
		r.Patient = p
	default:
		if len(r.Patients) == 0 {
			r.Patients = []string{r.Patient}
		}
		r.Patients = append(r.Patients[:len(r.Patients):len(r.Patients)], p)
	}
}

// HasPatient reports whether p is one of the patients of r.
func (r *Result) HasPatient(p string) bool {
	if r.Patient == p {
		return true
	}
	for _, q := range r.Patients {
		if q == p {
			return true
		}
	}
	return false
}
