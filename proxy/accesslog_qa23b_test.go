package proxy

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/gin-gonic/gin"
)

// The access log line keeps its fields and their JSON types, and writing
// it allocates nothing when the logger discards it (its values are not
// boxed in interfaces before the level is looked at).
func TestAccessLogLineAndAllocations(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	var buf bytes.Buffer
	s := &Server{log: slog.New(slog.NewJSONHandler(&buf, nil))}
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest("GET", "/fhir/Observation/1", nil)
	c.Set(requestIDKey, "rid-1")
	c.Set(callerKey, authn.Caller{Client: "app", Org: "Organization/o", Subject: "Patient/p"})
	c.Writer.WriteHeader(201)
	c.Writer.WriteHeaderNow()
	s.accessLog(c)
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("%v: %s", err, buf.Bytes())
	}
	want := map[string]any{"level": "INFO", "msg": "request", "request_id": "rid-1", "method": "GET", "route": "",
		"status": float64(201), "client": "app", "org": "Organization/o"}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s: %#v; want %#v (%s)", k, m[k], v, buf.Bytes())
		}
	}
	if _, ok := m["duration_ms"].(float64); !ok {
		t.Errorf("duration_ms: %#v; want a number", m["duration_ms"])
	}
	if len(m) != len(want)+2 { // and time, duration_ms
		t.Errorf("fields %v", m)
	}
	s.log = slog.New(slog.DiscardHandler)
	if n := testing.AllocsPerRun(100, func() { s.accessLog(c) }); n != 0 {
		t.Errorf("a discarded access log line: %v allocations; want 0", n)
	}
}
