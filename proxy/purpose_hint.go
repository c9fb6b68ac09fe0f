package proxy

import (
	"strings"
	"sync"

	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/proxy/authn"
)

// purposeHints says once per client and code when a token states a purpose
// of use that is not a v3-PurposeOfUse code ("treat", "TRET"). The policy
// reads such a purpose as unknown and discloses no restricted data, and
// with ordinary data limited to stated purposes, often nothing at all: the
// caller sees empty results and the operator would otherwise have no clue.
// The log line names the client and the code, never the token.
type purposeHints struct {
	mu   sync.Mutex
	seen map[[2]string]bool
}

// maxPurposeHints bounds the remembered (client, code) pairs; past it,
// nothing more is logged until the process restarts, so a client that
// invents codes cannot flood the log.
const maxPurposeHints = 256

// check logs each unknown purpose of c that it has not logged before.
func (h *purposeHints) check(s *Server, requestID string, c authn.Caller) {
	for _, p := range c.Purposes {
		if labels.KnownPurpose(p) {
			continue
		}
		if len(p) > 64 {
			p = p[:64]
		}
		key := [2]string{c.Client, p}
		h.mu.Lock()
		fresh := !h.seen[key] && len(h.seen) < maxPurposeHints
		if fresh {
			if h.seen == nil {
				h.seen = map[[2]string]bool{}
			}
			h.seen[key] = true
		}
		h.mu.Unlock()
		if !fresh {
			continue
		}
		attrs := []any{"request_id", requestID, "client", c.Client, "org", c.Org, "purpose", p}
		if i := strings.LastIndexByte(p, '|'); i >= 0 && labels.KnownPurpose(p[i+1:]) {
			// A v3-ActReason code under another system (authn.NormalizePurpose
			// reads a code in the system it names): say which system would do.
			attrs = append(attrs, "did_you_mean", labels.SystemActReason+"|"+p[i+1:])
		} else if s := labels.SuggestCode(labels.SystemActReason, p); s != "" {
			attrs = append(attrs, "did_you_mean", s)
		}
		s.log.Warn("token states a purpose of use that is not a v3-PurposeOfUse code (codes are case-sensitive); "+
			"the policy treats it as unknown and discloses no restricted data for it", attrs...)
	}
}
