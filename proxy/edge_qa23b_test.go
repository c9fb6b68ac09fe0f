package proxy

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
)

// hideURLFromTelemetry shows the handlers after it the route template, no
// query, no user and the configured host, puts the real request back after
// them, and makes its copy in one allocation.
func TestHideURLFromTelemetryOneAllocation(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	hide := hideURLFromTelemetry("public.example")
	var seen http.Request
	var orig *http.Request
	e := gin.New()
	e.GET("/fhir/*path", hide, func(c *gin.Context) {
		seen = *c.Request
		if v, ok := c.Get(originalReqKey); ok {
			orig = v.(*http.Request)
		}
	})
	req := httptest.NewRequest("GET", "http://u:pw@caller.example/fhir/Patient/p1?name=Smith", nil)
	e.ServeHTTP(httptest.NewRecorder(), req)
	if seen.URL == nil || seen.URL.Path != "/fhir/*path" || seen.URL.RawQuery != "" || seen.URL.User != nil ||
		seen.URL.Host != "public.example" || seen.Host != "public.example" || seen.URL == req.URL {
		t.Fatalf("the hidden request: %+v", seen.URL)
	}
	if orig != req || req.URL.Path != "/fhir/Patient/p1" || req.URL.RawQuery != "name=Smith" {
		t.Fatalf("the original request changed: %v %v", orig == req, req.URL)
	}
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = req
	if n := testing.AllocsPerRun(100, func() { hide(c) }); n > 1 {
		t.Errorf("hiding the URL: %v allocations; want 1", n)
	}
	if c.Request != req {
		t.Errorf("the request was not put back")
	}
}
