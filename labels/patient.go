package labels

import (
	"bytes"
	"errors"
)

// patientID returns the id of the patient the resource belongs to (see
// Result.Patient), or nil when there is none.
func (w *walker) patientID(typ string) ([]byte, error) {
	if typ == "Patient" {
		return w.decoded(w.id), nil
	}
	var found []byte
	for _, f := range w.refs {
		id := referencedPatient(w.decoded(f))
		if id == nil {
			continue
		}
		if found != nil && !bytes.Equal(found, id) {
			return nil, errors.New("labels: subject, patient and beneficiary name different patients")
		}
		found = id
	}
	return found, nil
}

// referencedPatient returns the Patient id a reference points at: the id
// after "Patient/" at the start or after a slash, with any /_history/ suffix
// removed. It returns nil for other references (other types, urn:uuid,
// #contained, search URLs).
func referencedPatient(ref []byte) []byte {
	if i := bytes.Index(ref, []byte("/_history/")); i >= 0 {
		ref = ref[:i]
	}
	const prefix = "Patient/"
	i := bytes.LastIndex(ref, []byte(prefix))
	if i < 0 || (i > 0 && ref[i-1] != '/') {
		return nil
	}
	if id := ref[i+len(prefix):]; validID(id) {
		return id
	}
	return nil
}

// validID reports whether id is a FHIR resource id: 1 to 64 characters from
// A-Z, a-z, 0-9, '-' and '.'.
func validID(id []byte) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, c := range id {
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.'
		if !ok {
			return false
		}
	}
	return true
}
