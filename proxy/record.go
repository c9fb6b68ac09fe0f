package proxy

import (
	"context"

	"github.com/ds4p/ds4p/audit"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
)

// withheldRecordFailures counts withheld-only responses whose ledger
// entries could not be written (nothing of them was disclosed).
var withheldRecordFailures, _ = otel.Meter("github.com/ds4p/ds4p/proxy").Int64Counter("ds4p.ledger.withheld_record_failures",
	metric.WithDescription("withheld-only responses whose ledger entries could not be written; nothing was disclosed"))

// recordWithheld writes the ledger entries of a response that disclosed
// nothing without making the caller wait for them. A disclosure is
// recorded durably before it leaves (run.record); a withheld-only answer
// carries nothing to account for, and waiting for its fsync would make it
// slower than the answer for a missing resource, which records nothing: a
// caller timing the two would tell them apart. A failure is logged and
// counted; the caller's answer, which discloses nothing, is the same
// either way.
func (s *Server) recordWithheld(ctx context.Context, requestID string, entries []audit.Entry) {
	s.withheldWrites.RLock()
	go func() {
		defer s.withheldWrites.RUnlock()
		ctx := context.WithoutCancel(ctx)
		if err := s.ledger.Append(ctx, entries...); err != nil {
			withheldRecordFailures.Add(ctx, 1)
			s.log.Error("the ledger entries of a withheld response could not be written; nothing was disclosed",
				"request_id", requestID, "entries", len(entries), "error", err.Error())
		}
	}()
}

// Flush waits until the ledger entries of every withheld-only response
// answered before it are written (or failed). The audit endpoints call it
// before they read the ledger; call it before closing the ledger.
func (s *Server) Flush() {
	s.withheldWrites.Lock()
	s.withheldWrites.Unlock() //nolint:staticcheck // an empty critical section: waiting is the point
}
