package labels

import (
	"bytes"

	"github.com/ds4p/ds4p/internal/fjson"
)

// patientID returns the id of the patient the resource belongs to (see
// Result.Patient), or nil when there is none. conflict reports that its
// subject, patient and beneficiary references name different patients
// (Result.PatientConflict): id is then nil.
func (w *walker) patientID(typ string) (id []byte, conflict bool) {
	if typ == "Patient" {
		return w.decoded(w.id), false
	}
	var found []byte
	for _, f := range w.refs {
		ref := w.decoded(f)
		id := referencedPatient(ref)
		if id == nil {
			continue
		}
		if w.rs.foreignRef(ref) {
			return nil, true // another server's Patient: whose record it is cannot be told
		}
		if found != nil && !bytes.Equal(found, id) {
			return nil, true
		}
		found = id
	}
	return found, false
}

// referencedPatient returns the Patient id a reference points at (see
// referenceKey: relative or absolute, any /_history suffix removed, the
// spellings a server may resolve read as the resource they name). It
// returns nil for other references (other types, urn:uuid, #contained,
// search URLs).
func referencedPatient(ref []byte) []byte {
	// Most references name another type: without "Patient" in them, and
	// without a percent-escape that could spell it, they name no Patient,
	// found by two vectorised searches instead of parsing each (the walk
	// asks this of every reference it meets).
	if !bytes.Contains(ref, patientType) && bytes.IndexByte(ref, '%') < 0 {
		return nil
	}
	key, typLen := referenceKey(ref)
	if key == nil || string(key[:typLen]) != "Patient" {
		return nil
	}
	return key[typLen+1:]
}

var patientType = []byte("Patient")

// foreignRef reports whether ref, a reference naming a resource, is an
// absolute one whose base Options.LocalServer does not take as the server
// whose data is labelled. A base it cannot cut out counts as foreign.
func (rs *ruleset) foreignRef(ref []byte) bool {
	if rs.local == nil || !bytes.Contains(ref, schemeSeparator) {
		return false
	}
	c := bytes.TrimRight(cleanReference(ref), "/")
	j := bytes.LastIndexByte(c, '/')
	if j <= 0 {
		return true
	}
	k := bytes.LastIndexByte(c[:j], '/')
	if k <= 0 {
		return true
	}
	return !rs.local(string(c[:k]))
}

var schemeSeparator = []byte("://")

// ValidID reports whether id is a FHIR resource id: 1 to 64 characters from
// A-Z, a-z, 0-9, '-' and '.'.
func ValidID(id string) bool { return validID([]byte(id)) }

// validID is ValidID of bytes.
func validID(id []byte) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !idByte[c] {
			return false
		}
	}
	return true
}

// idByte marks the bytes a FHIR id may hold: A-Z a-z 0-9 - and '.'.
var idByte = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.'
	}
	return t
}()

// patientIdentifier returns "system|value" of the identifier by which the
// subject, patient or beneficiary object names a patient, "" when none
// does. Different identifiers are a conflict, as different references are.
func (w *walker) patientIdentifier() (ident string, conflict bool) {
	found := ""
	for _, obj := range w.refObjs {
		if obj == 0 {
			continue
		}
		id := referencedIdentifier(w.b, obj)
		if id == "" {
			continue
		}
		if found != "" && found != id {
			return "", true
		}
		found = id
	}
	return found, false
}

// referencedIdentifier reads Reference.identifier (system and value, both
// strings) of the Reference object at obj: "system|value", or "" when there
// is none or Reference.type names a type other than Patient.
func referencedIdentifier(b []byte, obj int) string {
	if s, e, ok, err := fjson.Lookup(b, obj, "type"); err != nil || ok && !isString(b, s, e, "Patient") {
		return ""
	}
	s, _, ok, err := fjson.Lookup(b, obj, "identifier")
	if err != nil || !ok || b[s] != '{' {
		return ""
	}
	system, ok1 := stringMember(b, s, "system")
	value, ok2 := stringMember(b, s, "value")
	if !ok1 || !ok2 || system == "" || value == "" {
		return ""
	}
	return system + "|" + value
}

// stringMember returns the string member key of the object at obj.
func stringMember(b []byte, obj int, key string) (string, bool) {
	s, e, ok, err := fjson.Lookup(b, obj, key)
	if err != nil || !ok {
		return "", false
	}
	return fjson.StringValue(b, s, e)
}

func isString(b []byte, s, e int, want string) bool {
	v, ok := fjson.StringValue(b, s, e)
	return ok && v == want
}
