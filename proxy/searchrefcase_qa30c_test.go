package proxy

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// A reference search value whose type is spelt in another case
// (condition/sud1, CONDITION/sud1) is read and decided as the type it
// names in any case: a server that looks types up without regard to case
// matches it against the withheld Condition. The upstream then sees what
// a missing id gets, and the proxy reads Condition/<id>, never the type
// as written.
func TestSearchRefTypeInAnyCaseQA30C(t *testing.T) {
	t.Parallel()
	h, query, reads := bareIDHarness(t)
	for _, c := range []struct{ path, tok, want string }{
		{"/fhir/Encounter?diagnosis=condition/sud1", tokOther, "diagnosis=Condition/" + noneID},
		{"/fhir/Encounter?diagnosis=CONDITION/sud1", tokOther, "diagnosis=Condition/" + noneID},
		{"/fhir/Encounter?diagnosis=condition/nope", tokOther, "diagnosis=Condition/" + noneID},
		{"/fhir/List?item=cOnDiTiOn/sud1/_history/3", tokOther, "item=Condition/" + noneID},
		// readable: as written
		{"/fhir/Encounter?diagnosis=condition/ok1", tokOther, "diagnosis=condition/ok1"},
		{"/fhir/Encounter?diagnosis=condition/sud1", tokConsented, "diagnosis=condition/sud1"},
		// a directory type in any case is not read
		{"/fhir/Observation?subject=patient/p1", tokOther, "subject=patient/p1"},
	} {
		resp, body := h.get(c.path, c.tok)
		if q := query(strings.TrimPrefix(strings.Split(c.path, "?")[0], "/fhir/")); resp.StatusCode != http.StatusOK || q != c.want {
			t.Errorf("%s as %s: %d %s; upstream query %q, want %q", c.path, c.tok, resp.StatusCode, body, q, c.want)
		}
	}
	reads()
	h.get("/fhir/Encounter?diagnosis=CONDITION/ok1", tokOther)
	if r := reads(); !slices.Equal(r, []string{"Condition/ok1"}) {
		t.Errorf("CONDITION/ok1 read %v, want Condition/ok1", r)
	}
}
