package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"

	"github.com/ds4p/ds4p/internal/fjson"
)

// Failure is an error with the HTTP status and OperationOutcome issue code
// the caller gets. Its message is written to the caller, so it never carries
// upstream data.
type Failure struct {
	Status int
	Code   string // OperationOutcome issue.code
	Msg    string
	Err    error // cause, for logs and spans only
}

func (f *Failure) Error() string {
	if f.Err != nil {
		return f.Msg + ": " + f.Err.Error()
	}
	return f.Msg
}

func (f *Failure) Unwrap() error { return f.Err }

func fail(status int, code, msg string, err error) *Failure {
	return &Failure{Status: status, Code: code, Msg: msg, Err: err}
}

// StatusClientClosed is the status logged when the caller went away.
const StatusClientClosed = 499

// classify maps any error on the request or response path to a Failure. It
// is the one place where errors become statuses.
func classify(err error) *Failure {
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return fail(http.StatusRequestEntityTooLarge, "too-costly", "request body exceeds "+strconv.FormatInt(mbe.Limit, 10)+" bytes", err)
	}
	if errors.Is(err, context.Canceled) {
		return fail(StatusClientClosed, "incomplete", "request canceled", err)
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return fail(http.StatusGatewayTimeout, "timeout", "the FHIR server did not answer in time", err)
	}
	return fail(http.StatusBadGateway, "transient", "the FHIR server could not be reached or answered badly", err)
}

// outcome renders a one-issue OperationOutcome.
func outcome(severity, code, diagnostics string) []byte {
	b := make([]byte, 0, 160+len(diagnostics))
	b = append(b, `{"resourceType":"OperationOutcome","issue":[{"severity":`...)
	b = fjson.AppendString(b, severity)
	b = append(b, `,"code":`...)
	b = fjson.AppendString(b, code)
	b = append(b, `,"diagnostics":`...)
	b = fjson.AppendString(b, diagnostics)
	b = append(b, `}]}`...)
	return b
}

// writeOutcome writes an OperationOutcome with status to w.
func writeOutcome(w http.ResponseWriter, status int, code, diagnostics string) {
	body := outcome("error", code, diagnostics)
	h := w.Header()
	h.Set("Content-Type", fhirJSON)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Encoding")
	h.Del("ETag")
	h.Del("Last-Modified")
	h.Del("Location")
	h.Del("Content-Location")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeFailure(w http.ResponseWriter, f *Failure) {
	status := f.Status
	if status == StatusClientClosed {
		return
	}
	writeOutcome(w, status, f.Code, f.Msg)
}

// notFoundBody is what a missing and a withheld resource both answer, so
// that a 404 never tells them apart.
func notFoundBody(typ, id string) []byte {
	return outcome("error", "not-found", fmt.Sprintf("%s/%s is not known", typ, id))
}

const fhirJSON = "application/fhir+json; charset=utf-8"
