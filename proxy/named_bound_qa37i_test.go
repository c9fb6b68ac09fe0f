package proxy

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// TestNamedPatientsStopPastBoundQA37I: a query naming thousands of patients
// is read no further than one past the bound recordUninspected refuses.
func TestNamedPatientsStopPastBoundQA37I(t *testing.T) {
	t.Parallel()
	ids := make([]string, 5000)
	for i := range ids {
		ids[i] = strconv.Itoa(i)
	}
	r := httptest.NewRequest("GET", "/x?patient="+strings.Join(ids, ","), nil)
	got := (&Server{}).appendNamedPatients([]string{""}, "", r)
	if len(got) != maxNamedPatients+1 {
		t.Errorf("%d patients kept, want %d (enough to refuse)", len(got), maxNamedPatients+1)
	}
}
