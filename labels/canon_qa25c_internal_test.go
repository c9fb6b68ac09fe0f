package labels

import "testing"

// TestCanonicalSourceAgreesQA25C: the fast path of bySource
// (canonicalSource) compares a source as appendSource spells it.
func TestCanonicalSourceAgreesQA25C(t *testing.T) {
	for _, s := range []string{
		"https://p2.example/ehr", "http://p2.example/ehr", "https://p2.example/ehr#x/", "https://P2.example/ehr",
		"https://p2.example:443/x", "http://p2.example:80/x", "https://u@h/x", "https://h./x", "https://h//x",
		"https://h/x?a//b", "https://h/x%41", "https://h/x|v", "https://h/x/", "https://h", "https://h.",
		"https://", "http://", "https:///x", " https://h/x", "https://h/x ", "https://h?x//y", "https://h#/",
		"https://h/a#b//c", "HTTP://h/x", "urn:oid:1.2.3",
	} {
		want := string(appendSource(nil, []byte(s)))
		if n := canonicalSource([]byte(s)); n > 0 && s[n:] != want {
			t.Errorf("%q: the fast path compares %q, appendSource %q", s, s[n:], want)
		}
	}
	if canonicalSource([]byte("http://part2-clinic.example.org/fhir")) == 0 {
		t.Error("an ordinary http source takes the slow path")
	}
}
