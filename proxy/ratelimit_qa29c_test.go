package proxy

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/gin-gonic/gin"
)

// TestBatchDebtNotLaidOnOtherCallers (QA29 C): a batch's entries were
// charged in full to the client's and the organisation's buckets too, which
// other callers share, so one caller's Bundle of many GETs (16 MiB holds
// ~350,000) put its whole organisation and every user of its client app
// into debt: with the defaults one Bundle of $everything entries refused
// every $everything of the organisation for ~23 minutes and of the client
// for ~58. The caller's own bucket still pays the whole debt; a shared
// bucket goes at most one burst into debt, so the others wait about two
// bursts' refill at most.
func TestBatchDebtNotLaidOnOtherCallers(t *testing.T) {
	t.Parallel()
	upstream := func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/fhir+json")
			_, _ = w.Write([]byte(`{"resourceType":"Bundle","type":"batch-response","entry":[]}`))
			return
		}
		observationUpstream(w, r)
	}
	// Subject: 1 read/s, burst 10; client and organisation: 2/s, burst 20.
	h := newHarness(t, upstream, withLimits(RateLimits{Read: Limit{Rate: 1, Burst: 10}, ClientFactor: 2, OrgFactor: 2}, nil))
	var entries []string
	for i := range 500 {
		entries = append(entries, fmt.Sprintf(`{"request":{"method":"GET","url":"Observation/o%d"}}`, i))
	}
	bundle := `{"resourceType":"Bundle","type":"batch","entry":[` + strings.Join(entries, ",") + `]}`
	alice := "alice|Organization/a|app-shared|" + readScopes
	if resp, body := h.post("/fhir/", alice, bundle); resp.StatusCode == http.StatusTooManyRequests {
		t.Fatalf("the batch: %d %s, want it let through once", resp.StatusCode, body)
	}
	retryAfter := func(tok string) int {
		t.Helper()
		resp, body := h.get("/fhir/Observation/o1", tok)
		if resp.StatusCode != http.StatusTooManyRequests {
			return 0
		}
		ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		if err != nil {
			t.Fatalf("429 without a Retry-After: %s", body)
		}
		return ra
	}
	// The caller pays for its 500 entries: about 490 s at 1/s.
	if ra := retryAfter(alice); ra < 400 {
		t.Errorf("the batch's caller: Retry-After %d, want its own debt of about 490 s", ra)
	}
	// Another user of the same organisation, and one of the same client
	// app: at most about two bursts (40 tokens at 2/s: 20 s), not the
	// caller's 480-token debt (240 s).
	for _, other := range []string{"bob|Organization/a|app-b|" + readScopes, "carol|Organization/c|app-shared|" + readScopes} {
		if ra := retryAfter(other); ra > 21 {
			t.Errorf("%s: Retry-After %d s: another caller's batch put the shared bucket %d tokens into debt", strings.SplitN(other, "|", 2)[0], ra, 2*ra)
		}
	}
}

// TestRetryAfterHolds (QA29 C): Retry-After was the wait of the first
// bucket that refused (the subject's, checked first), though another of
// the caller's buckets (its organisation's) was empty for longer, so a
// caller that waited as told was refused again with a new Retry-After. It
// is now the longest wait of the caller's buckets for the class.
func TestRetryAfterHolds(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{}
	clock.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	// Subject: 1/s, burst 1; client: 1/s, burst 1; organisation: 0.1/s, burst 1.
	l := newLimiter(RateLimits{Read: Limit{Rate: 1, Burst: 1}, ClientFactor: 1, OrgFactor: 0.1}.withDefaults())
	l.now = clock.now
	vals := [numDims]string{"s", "c", "o"}
	if v := l.allow(0, vals); !v.ok {
		t.Fatal("first request refused")
	}
	clock.add(100 * time.Millisecond)
	v := l.allow(0, vals)
	if v.ok || v.dim != dimSubject {
		t.Fatalf("second = %+v, want the subject to refuse", v)
	}
	// The organisation's bucket holds 0.01 token: 9.9 s to one.
	if v.retryAfter < 9*time.Second {
		t.Fatalf("Retry-After %v: the organisation's bucket is empty for 9.9 s", v.retryAfter)
	}
	clock.add(v.retryAfter)
	if v := l.allow(0, vals); !v.ok {
		t.Fatalf("after waiting the Retry-After: %+v, refused again", v)
	}
	// The same for a batch's entries (allowN).
	l2 := newLimiter(RateLimits{Read: Limit{Rate: 1, Burst: 1}, ClientFactor: 1, OrgFactor: 0.1}.withDefaults())
	l2.now = clock.now
	if v, _ := l2.allowN(0, vals, 1); !v.ok {
		t.Fatal("batch's first entry refused")
	}
	clock.add(100 * time.Millisecond)
	if v, _ := l2.allowN(0, vals, 2); v.ok || v.retryAfter < 9*time.Second {
		t.Fatalf("batch after: %+v, want refused for the organisation's 9.9 s", v)
	}
}

// countingBody counts the bytes read from it.
type countingBody struct {
	r io.Reader
	n int
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += n
	return n, err
}

func (b *countingBody) Close() error { return nil }

// TestThrottledBatchNotRead (QA29 C): a batch was read whole (up to
// max_request_body_bytes, 16 MiB) and parsed to count its entries before
// any bucket was asked, so a caller already throttled made the proxy read
// and decode a 16 MiB Bundle for each 429, as much as for a request
// served. The Bundle's own write token is now taken first: a caller whose
// write bucket is empty gets its 429 before a byte of the body is read.
func TestThrottledBatchNotRead(t *testing.T) {
	t.Parallel()
	gin.SetMode(gin.ReleaseMode)
	s := &Server{limits: newLimiter(RateLimits{Write: Limit{Rate: 0.001, Burst: 1}}.withDefaults()),
		opts: Options{MaxRequestBodyBytes: 1 << 20}, log: slog.New(slog.DiscardHandler)}
	caller := authn.Caller{Subject: "mallory", Client: "app-m", Org: "Organization/m"}
	e := gin.New()
	served := 0
	e.POST("/fhir/*path", func(c *gin.Context) { c.Set(callerKey, caller) }, s.rateLimitFHIR, func(c *gin.Context) { served++ })
	bundle := `{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Observation/o1"}}]}`
	send := func() (int, *countingBody) {
		body := &countingBody{r: strings.NewReader(bundle)}
		req := httptest.NewRequest(http.MethodPost, "/fhir/", nil)
		req.Body = body
		w := httptest.NewRecorder()
		e.ServeHTTP(w, req)
		return w.Code, body
	}
	if code, _ := send(); code != http.StatusOK || served != 1 {
		t.Fatalf("first batch: %d (served %d), want it let through", code, served)
	}
	code, body := send()
	if code != http.StatusTooManyRequests || served != 1 {
		t.Fatalf("second batch: %d (served %d), want 429 (the write burst is 1)", code, served)
	}
	if body.n != 0 {
		t.Errorf("the throttled caller's batch was read (%d bytes) before its 429", body.n)
	}
}
