package labels_test

import (
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// TestProgramSourceSpellingsQA25C: a meta.source that names a Part 2
// program's system in a spelling a server accepts (http for https, a
// doubled slash, a percent-escape, a "|version", user info, a trailing dot
// of the host, an OID as URN:OID: or bare) is the program's source:
// compared as configured, the program's records were labelled as any
// other. A path in another case, another host, or a longer path segment
// is another source; a source that is empty as compared is refused.
func TestProgramSourceSpellingsQA25C(t *testing.T) {
	t.Parallel()
	l, err := labels.NewLabeller(labels.Options{Programs: []labels.Program{
		{Name: "clinic", Sources: []string{"https://p2.example/ehr", "urn:oid:1.2.3.4"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	label := func(src string) labels.Result {
		r, err := l.Label([]byte(`{"resourceType":"Observation","meta":{"source":"` + src + `"}}`))
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		return r
	}
	for _, src := range []string{
		"http://p2.example/ehr", "https://p2.example//ehr", "https://p2.example/%65hr", "https://p2.example/ehr|v1",
		"https://user@p2.example/ehr", "https://p2.example./ehr", "HTTP://P2.EXAMPLE:80/ehr/#x", "URN:OID:1.2.3.4", "1.2.3.4",
		"https://p2.example/ehr/site-2",
	} {
		if r := label(src); r.Program != "clinic" || !r.Labels.Has(labels.Part2Policy) {
			t.Errorf("%q: program %q, labels %v; want the program's record", src, r.Program, r.Labels)
		}
	}
	for _, src := range []string{"https://p2.example/EHR", "https://other.example/ehr", "https://p2.example/ehr2", "urn:oid:1.2.3.45", "#abc"} {
		if r := label(src); r.Program != "" {
			t.Errorf("%q: program %q", src, r.Program)
		}
	}
	for _, bad := range []string{" / ", "|v1"} {
		_, err := labels.NewLabeller(labels.Options{Programs: []labels.Program{{Name: "x", Sources: []string{bad}}}})
		if err == nil || !strings.Contains(err.Error(), "empty source") {
			t.Errorf("source %q: %v; want it refused", bad, err)
		}
	}
}
