package proxy

import (
	"net/http"
	"testing"
)

// TestUpstreamDroppedCanonical: rewrite deletes upstreamDropped from the
// outgoing header map directly, which removes a header only under its
// canonical spelling; and it sets Accept and X-Request-Id the same way.
func TestUpstreamDroppedCanonical(t *testing.T) {
	for _, k := range append(upstreamDropped, "Accept", "X-Request-Id") {
		if c := http.CanonicalHeaderKey(k); c != k {
			t.Errorf("%q is not canonical (%q): rewrite would leave the caller's header in place", k, c)
		}
	}
}
