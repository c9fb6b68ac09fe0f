package console

import (
	"encoding/json"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// The session answers say how long the session has left (expires_in_s,
// by the server's clock) and its idle timeout, so that the page clears the
// data it shows when the session ends whatever the browser's clock says
// (assets/app.js watchSession; test/console/session_end_qa25b.test.mjs).
func TestSessionAnswerSaysTimeLeft(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	exp := f.clock.now().Add(10 * time.Minute).Unix()
	b := f.login(t, "aud|ds4p/auditor|"+strconv.FormatInt(exp, 10))
	left := func(rec *httptest.ResponseRecorder) (int, int) {
		t.Helper()
		var s struct {
			ExpiresIn   *int `json:"expires_in_s"`
			IdleTimeout int  `json:"idle_timeout_s"`
		}
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &s) != nil || s.ExpiresIn == nil {
			t.Fatalf("session answer: %d %s", rec.Code, rec.Body)
		}
		return *s.ExpiresIn, s.IdleTimeout
	}
	body, _ := json.Marshal(map[string]string{"token": "aud|ds4p/auditor|" + strconv.FormatInt(exp, 10)})
	if in, idle := left(f.do("POST", "/console/api/login", string(body), map[string]string{"Content-Type": "application/json"})); in < 598 || in > 600 || idle != 1800 {
		t.Fatalf("sign-in: expires_in_s %d, idle_timeout_s %d; want ~600 and 1800", in, idle)
	}
	f.clock.add(4 * time.Minute)
	req := httptest.NewRequest("GET", "/console/api/session", nil)
	req.AddCookie(b.cookie)
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	if in, _ := left(rec); in < 358 || in > 360 {
		t.Fatalf("after 4 minutes: expires_in_s %d, want ~360", in)
	}
}
