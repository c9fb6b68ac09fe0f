package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// recordSpanError marks span as failed with what a span may carry of err:
// the OperationOutcome issue code the caller got and a fixed kind of cause
// (causeKind), never the error's text. The text can hold the upstream URL
// (a patient's or clinical resource's id), a Failure's message (which can
// repeat the caller's resource id or search parameter) and the upstream's
// own words (a status line's reason phrase); spans never carry PHI. The log
// line of the same request has the sanitised cause (errString).
func recordSpanError(span trace.Span, err error) {
	f := classify(err)
	msg := f.Code
	if k := causeKind(f.Err); k != "" {
		msg += ": " + k
	}
	span.AddEvent("exception", trace.WithAttributes(
		attribute.String("exception.type", fmt.Sprintf("%T", err)),
		attribute.String("exception.message", msg),
		attribute.Int("ds4p.failure.status", f.Status),
	))
	span.SetStatus(codes.Error, "failed")
}

// causeKind names the kind of a failure's cause in words of its own: none
// of the cause's text, which can quote URLs and upstream data.
func causeKind(err error) string {
	if err == nil {
		return ""
	}
	var mbe *http.MaxBytesError
	var ne net.Error
	var errno syscall.Errno
	var oe *net.OpError
	var f *Failure
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.As(err, &mbe):
		return "body too large"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed"
	case errors.As(err, &errno):
		return errno.Error() // the system's fixed text: "connection refused"
	case errors.As(err, &oe):
		return "network error (" + oe.Op + ")"
	case errors.As(err, &f):
		return f.Code // a Failure wrapping another
	}
	return "error"
}
