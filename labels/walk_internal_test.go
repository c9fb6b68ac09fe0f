package labels

import (
	"net/url"
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
// a search for the last "Patient/" (kept here as the reference) after the
// reference is cleaned as a server may read it (white space trimmed, cut at
// '#' or '?', percent-decoded, cut at /_history, doubled and trailing
// slashes dropped), on references of every shape and on every cut of them.
func TestReferencedPatient(t *testing.T) {
	ref := func(raw []byte) []byte {
		s := strings.Trim(string(raw), " \t")
		if i := strings.IndexAny(s, "#?"); i >= 0 {
			s = s[:i]
		}
		if u, err := url.PathUnescape(s); err == nil {
			s = u
		}
		if i := strings.Index(s+"/", "/_history/"); i >= 0 {
			s = s[:i]
		}
		for strings.Contains(s, "//") {
			s = strings.ReplaceAll(s, "//", "/")
		}
		r := []byte(strings.TrimRight(s, "/"))
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
		// Spellings a server may resolve: they must name the patient.
		" Patient/p1 ", "\tPatient/p1", "Patient/p1#x", "Patient/p1?_format=json", "Patient/%70-1", "%50atient/p1",
		"http://x/fhir/Patient/p1/_history", "http://x/fhir/Patient/p1/_history/3/", "http://x/fhir//Patient//p1//",
		"http://x/fhir/Patient/p1/?a=b#c", "Patient/%zz", "Patient/p%2",
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

// TestReferenceKey: the spellings of a reference a FHIR server may resolve
// read as the resource they name (QA found each ignored: no label passed
// on, no Part 2 program matched, no unknown target read), and ordinary
// references are read without allocating.
func TestReferenceKey(t *testing.T) {
	tests := map[string]string{
		"Condition/c1":                                 "Condition/c1",
		"Condition/c1/":                                "Condition/c1",
		" Condition/c1":                                "Condition/c1",
		"Condition/c1 ":                                "Condition/c1",
		"\tCondition/c1\n":                             "Condition/c1",
		"Condition/c1?x=1":                             "Condition/c1",
		"Condition/c1#frag":                            "Condition/c1",
		"Condition//c1":                                "Condition/c1",
		"Condition/c1/_history":                        "Condition/c1",
		"Condition/c1/_history/":                       "Condition/c1",
		"Condition/c1/_history/2":                      "Condition/c1",
		"Condition/c1/_history/2/":                     "Condition/c1",
		"Condition/%63-1":                              "Condition/c-1",
		"%43ondition/c1":                               "Condition/c1",
		"Cond%69tion/c1":                               "Condition/c1",
		"http://host/fhir/Condition/c1/":               "Condition/c1",
		"http://host/fhir/Condition/c1?_format=json":   "Condition/c1",
		"http://host/fhir/Condition/c1#x":              "Condition/c1",
		" http://host/fhir/Condition/c1 ":              "Condition/c1",
		"http://host/fhir//Condition//c1//":            "Condition/c1",
		"http://host/fhir/Condition/c1/_history/3?x#y": "Condition/c1",
		"http://my_host/fhir/Condition/c1":             "Condition/c1",
		"Organization/%70art2-clinic":                  "Organization/part2-clinic",
		// Not references to a resource.
		"#c1":                               "",
		"urn:uuid:1234":                     "",
		"Condition?code=F11.20":             "",
		"Condition":                         "",
		"Condition/":                        "",
		"/c1":                               "",
		"condition/c1":                      "",
		"Con-dition/c1":                     "",
		"Condition/c_1":                     "",
		"Condition/%zz":                     "",
		"Condition/c1/$validate":            "",
		"http://host/fhir/Condition?_id=c1": "",
		"":                                  "",
	}
	for in, want := range tests {
		key, typLen := referenceKey([]byte(in))
		if string(key) != want || (want != "" && string(key[:typLen]) != want[:strings.IndexByte(want, '/')]) {
			t.Errorf("referenceKey(%q) = %q, %d; want %q", in, key, typLen, want)
		}
	}
	for _, in := range []string{"Condition/c1", "http://host/fhir/Condition/c1", "Condition/c1/_history/2", "Condition/c1/", "urn:uuid:1234"} {
		ref := []byte(in)
		if n := testing.AllocsPerRun(100, func() { referenceKey(ref) }); n != 0 {
			t.Errorf("referenceKey(%q) allocates %v times", in, n)
		}
	}
}
