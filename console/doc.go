// Package console serves the ds4p web console at /console: pages for
// auditors (ledger search, one disclosure, accounting of disclosures,
// break-the-glass review, chain verification, charts, open bulk-access
// alerts and clearing them), compliance staff
// (policy status, Rego test results, decision simulator, label rules) and
// consent managers (consents, versions, readable provisions, create,
// revoke).
//
// The pages are plain HTML, CSS and ES modules embedded in the binary
// (assets/), with no build step. The browser signs in by pasting an admin
// bearer token; the server verifies it with the proxy's verifier, keeps it
// in a bounded in-memory session store and hands the browser only an
// opaque session cookie (HttpOnly, SameSite=Strict; over https
// __Host-ds4p_console, Secure, Path /; over http ds4p_console, Path
// /console). Config.PublicOrigin makes a console behind a TLS-terminating
// load balancer count as https. Sessions end after IdleTimeout without use, at the token's
// expiry, or at MaxSessionAge, whichever is first; the page then drops
// what it shows and asks for a sign-in (the session answer says the time
// left and the idle timeout; the last call's time is shared between tabs).
//
// The console API (/console/api/...) is JSON over POST: values that can be
// PHI (patient ids, consent ids, queries) travel in request bodies, never in
// URLs, so neither the access log (which logs the route only) nor a proxy
// or browser history sees them. Every state-changing or data-reading call
// needs the session's CSRF token in the X-CSRF-Token header (double
// submit: the token is readable only through GET /console/api/session of the
// same origin), JSON content type, and, when the browser sends one, an
// Origin equal to the console's own.
//
// Each role reaches only its own API: the console checks the session's
// scopes, and the calls it forwards to the proxy's /admin API (in process,
// with the session's token) are checked there again. A patient's token
// (authn.Caller.PatientSide, judged as the proxy's edge judges it: a
// clinician's absolute fhirUser counts only below the public base) is refused at sign-in and on every call,
// whatever its scopes, as the /admin routes refuse it: the calls the
// console answers itself (break-the-glass queue, reviews, verification,
// charts) read every patient's ledger entries.
package console
