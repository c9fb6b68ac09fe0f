package consent

import (
	"encoding/json"
	"errors"
	"fmt"
)

// patientElement is the element naming a consent's patient: subject in R5,
// patient in R4.
func patientElement(raw []byte) string {
	if isR5(raw) {
		return "subject"
	}
	return "patient"
}

// PatientIdentifier returns the system and value of the consent's patient
// (R4 patient, R5 subject) when it is given by identifier alone, without a
// reference; ok is false otherwise, or when raw cannot be read (validation
// then says why).
func PatientIdentifier(raw []byte) (system, value string, ok bool) {
	system, value, alone, ok := patientIdentifier(raw)
	if !ok || !alone {
		return "", "", false
	}
	return system, value, true
}

// PatientIdentifierBeside is PatientIdentifier also when the patient is
// given by a reference beside the identifier (a Reference with both, as
// EHRs write it): the identifier may be the person's MRN while the
// reference names a record merged or deleted since.
func PatientIdentifierBeside(raw []byte) (system, value string, ok bool) {
	system, value, _, ok = patientIdentifier(raw)
	return system, value, ok
}

// patientIdentifier returns the identifier of the consent's patient and
// whether it is given alone (no reference beside it).
func patientIdentifier(raw []byte) (system, value string, alone, ok bool) {
	if !json.Valid(raw) {
		return "", "", false, false
	}
	ms, err := members(raw)
	if err != nil {
		return "", "", false, false
	}
	var ref reference
	if err := json.Unmarshal(oneElement(find(ms, patientElement(raw))), &ref); err != nil || ref.Identifier == nil {
		return "", "", false, false
	}
	if ref.Identifier.System == "" || ref.Identifier.Value == "" {
		return "", "", false, false
	}
	return ref.Identifier.System, ref.Identifier.Value, ref.Reference == "", true
}

// WithPatientReference returns raw with its patient's (R5: subject's)
// reference set to ref ("Patient/<id>"), keeping the identifier and
// everything else.
func WithPatientReference(raw []byte, ref string) ([]byte, error) {
	if !patientRef.MatchString(ref) {
		return nil, fmt.Errorf("consent: %q is not of the form Patient/<id>", ref)
	}
	ms, err := members(raw)
	if err != nil {
		return nil, err
	}
	key := patientElement(raw)
	el := find(ms, key)
	one := oneElement(el)
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(one, &obj); err != nil || obj == nil {
		return nil, errors.New("consent: the patient is not an object")
	}
	obj["reference"], _ = json.Marshal(ref)
	v, err := marshalNoEscape(obj)
	if err != nil {
		return nil, err
	}
	if len(one) != len(el) { // kept an array of one, as the consent wrote it
		v = append(append([]byte{'['}, v...), ']')
	}
	return encodeMembers(set(ms, key, v))
}

// oneElement is the element of v when v is an array of exactly one, else
// v. A consent's patient written as an array of one Reference (invalid
// FHIR JSON, but a server may store it, and other readers take it as its
// one element) named by identifier was not matched to the patient, and
// sync mode dropped its denying stand-in (QA round 34, area A).
func oneElement(v json.RawMessage) json.RawMessage {
	var arr []json.RawMessage
	if json.Unmarshal(v, &arr) == nil && len(arr) == 1 {
		return arr[0]
	}
	return v
}

// PatientPath is where a consent names its patient: Consent.subject.reference
// in R5, Consent.patient.reference in R4; for messages about the patient.
func PatientPath(raw []byte) string {
	return "Consent." + patientElement(raw) + ".reference"
}
