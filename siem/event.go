package siem

import "time"

// Kinds of security events.
const (
	KindTokenRefused   = "token_refused"
	KindBreakGlass     = "break_glass"
	KindRateLimited    = "rate_limited"
	KindBulkAlert      = "bulk_alert"
	KindCallerBlocked  = "caller_blocked"
	KindAlertCleared   = "alert_cleared"
	KindPolicyLoaded   = "policy_loaded"
	KindPolicyRejected = "policy_rejected"
)

// Severities of events, mapped to syslog severities by the syslog sink.
const (
	SeverityInfo    = "info"
	SeverityNotice  = "notice"
	SeverityWarning = "warning"
	SeverityAlert   = "alert"
)

// Event is one security event. It never carries PHI: no patient id, no
// token, no query.
type Event struct {
	// Seq numbers events 1, 2, ... in queue order; Emit assigns it.
	Seq uint64 `json:"seq"`
	// Time is when it happened; Emit sets it when zero.
	Time      time.Time `json:"time"`
	Kind      string    `json:"kind"`
	Severity  string    `json:"severity"`
	RequestID string    `json:"request_id,omitempty"`
	Subject   string    `json:"subject,omitempty"`
	Org       string    `json:"org,omitempty"`
	Client    string    `json:"client,omitempty"`
	// Reason says why, without PHI.
	Reason string `json:"reason,omitempty"`
	// Class is the route class of a rate-limit event; Dimension which
	// bucket (subject, client or org) refused.
	Class     string `json:"class,omitempty"`
	Dimension string `json:"dimension,omitempty"`
	// AlertID names the alert of bulk and block events.
	AlertID string `json:"alert_id,omitempty"`
	// Revision and Source describe a policy load or rejection.
	Revision string `json:"revision,omitempty"`
	Source   string `json:"source,omitempty"`
	// Count is a number the kind defines (items, distinct patients ...).
	Count int `json:"count,omitempty"`
}

// Emitter takes security events; *Queue is one. A nil Emitter is not
// allowed: use Discard.
type Emitter interface {
	Emit(ev Event) error
}

// Discard drops every event.
var Discard Emitter = discard{}

type discard struct{}

func (discard) Emit(Event) error { return nil }
