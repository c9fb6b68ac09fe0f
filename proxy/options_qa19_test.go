package proxy

import (
	"net/url"
	"strings"
	"testing"
)

// TestBaseQueryNotShown: an upstream base with a query is refused without
// repeating it, since it can hold an API key (QA round 19: serve printed
// --upstream 'http://ehr/fhir?api_key=SECRET' back on stderr).
func TestBaseQueryNotShown(t *testing.T) {
	t.Parallel()
	u, err := url.Parse("http://ehr.example/fhir?api_key=SECRET")
	if err != nil {
		t.Fatal(err)
	}
	err = Options{Upstream: u}.Validate()
	if err == nil || !strings.Contains(err.Error(), "has a query") || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("Validate = %v, want a refusal that does not show the query", err)
	}
}
