package labels

import (
	"strings"
	"testing"
)

// TestNameSwitches: the switches the walk uses for member names (coding.note,
// topMember, metaMember) find what memberIndex finds, for every name,
// escaped spellings of them, near misses and other keys.
func TestNameSwitches(t *testing.T) {
	sets := []struct {
		name  string
		names *nameSet
		index func([]byte) int
	}{
		{"coding", codingNames, codingIndex},
		{"top", topNames, topIndex},
		{"meta", metaNames, metaIndex},
	}
	for _, s := range sets {
		keys := []string{"", "x", "id", "cod", "codes", "Code", "system ", "sys", "valueCode", "valueCodings",
			"div", "url", "urn", "value", "valuE", "reference", "referenc", "display", "coding", "text", `\\`, `a\/b`}
		for _, set := range sets {
			for _, n := range set.names.names {
				keys = append(keys, n, `\u00`+hex2(n[0])+n[1:], n[:len(n)-1]+`\/`, n+`\"`, n[1:])
			}
		}
		found := 0
		for _, k := range keys {
			got, want := s.index([]byte(k)), memberIndex([]byte(k), s.names)
			if got != want {
				t.Errorf("%s: index(%q) = %d, memberIndex says %d", s.name, k, got, want)
			}
			if got >= 0 {
				found++
			}
		}
		if found < 2*len(s.names.names) { // each name, and its escaped spelling
			t.Errorf("%s: %d keys found, want at least %d", s.name, found, 2*len(s.names.names))
		}
	}
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}

// TestIDBytes: the table validID reads holds the id characters FHIR allows,
// [A-Za-z0-9\-\.], and nothing else.
func TestIDBytes(t *testing.T) {
	for c := range 256 {
		want := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.'
		if idByte[c] != want || validID([]byte{byte(c)}) != want {
			t.Errorf("byte %#x: idByte %v, validID %v, want %v", c, idByte[c], validID([]byte{byte(c)}), want)
		}
	}
	if validID(nil) || validID([]byte(strings.Repeat("a", 65))) || !validID([]byte(strings.Repeat("a", 64))) {
		t.Error("ids of 0, 64 and 65 bytes: only 64 is valid")
	}
}

// TestReferencedPatient compares referencedPatient with the form it had,
// a search for the last "Patient/" (kept here as the reference), on
// references of every shape and on every cut of them.
func TestReferencedPatient(t *testing.T) {
	ref := func(r []byte) []byte {
		if i := strings.Index(string(r), "/_history/"); i >= 0 {
			r = r[:i]
		}
		i := strings.LastIndex(string(r), "Patient/")
		if i < 0 || (i > 0 && r[i-1] != '/') {
			return nil
		}
		if id := r[i+len("Patient/"):]; validID(id) {
			return id
		}
		return nil
	}
	refs := []string{
		"Patient/p1", "Patient/p1/_history/2", "http://x/fhir/Patient/p-1.2", "http://my_host/fhir/Patient/a",
		"XPatient/p1", "/Patient/p1", "Patient/", "Patient", "Patient/p/q", "Group/Patient/p1", "Patient/Patient/p1",
		"Patient/a_b", "urn:uuid:Patient/p1", "#Patient/p1", "Patient/p1?x=1", "Patient//p1", "Patient/p1/",
		"Observation/o1", "Patient/" + strings.Repeat("a", 65), "a/Patient/p1/_history/x/Patient/p2", "PatientPatient/p",
	}
	checked := 0
	for _, full := range refs {
		for n := 0; n <= len(full); n++ {
			r := []byte(full[:n])
			got, want := referencedPatient(r), ref(r)
			if string(got) != string(want) || (got == nil) != (want == nil) {
				t.Errorf("referencedPatient(%q) = %q, want %q", r, got, want)
			}
			if want != nil {
				checked++
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d references named a patient: the cases test too little", checked)
	}
}
