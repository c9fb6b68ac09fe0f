// Package proxy is the HTTP edge of ds4p: a gin engine that authenticates
// callers, forwards FHIR interactions to the upstream server with
// httputil.ReverseProxy (Rewrite, never Director), and runs every upstream
// JSON body through the response pipeline before a byte reaches the caller:
//
//	collect and label (one walk that also checks the JSON) → decide (once
//	per decision class) → enforce (drop, 404) → render → record in the
//	ledger (durable) → send
//
// The collect walk checks each resource's JSON as fjson.Validate would
// while labelling it (labels.Batch.AddChecked), and the Bundle around the
// resources through an fjson.Checker. A body it refuses for any reason
// goes the validating way instead (fjson.Validate whole, then collect and
// label), so refusals and their answers are those of Validate. The
// entries of a searchset of 256 KiB or more are walked in parts, the
// later parts by helper goroutines on idle cores (parts.go); the walk
// takes what a helper made only where the entry starts exactly where it
// finds the array's next element, so the run is the one-piece walk's.
//
// A Bundle of Options.StreamAboveBytes or more is rendered twice
// (stream.go): first into a length and a checksum per chunk, where every
// rendering failure withholds as it would for a buffer, then, once the
// ledger has recorded the disclosure, to the caller as it is sent, each
// chunk checked against the first rendering. So the response holds the
// body and what the pipeline built from it, not a second copy of the body.
// A caller that accepts gzip gets the second rendering gzipped whole into
// one buffer first, sent with its length as a rendered body is: sent
// chunked, its framing told that the upstream's body, withheld entries
// included, was past the threshold.
//
// Anything the pipeline cannot understand is withheld with a FHIR
// OperationOutcome: the proxy fails closed. Errors map to HTTP status in one
// place, outcome.go.
//
// The package states the narrow interfaces it needs from its neighbours
// (Decider, ConsentSource, Ledger, Authenticator) so that tests can use
// in-process fakes and cmd wires the real ones.
package proxy
