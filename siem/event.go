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
	// KindConsentChanged is a consent created, updated or revoked through
	// the admin API: who (subject, org, client), Action, Consent and
	// ConsentVersion; never the consent's patient.
	KindConsentChanged = "consent_changed"
	// KindEventsDropped says that the queue, full, dropped security
	// events (ErrQueueFull): Count of them, and Reason names their kinds.
	// It is queued with the next event the queue takes, so the SIEM sees
	// the loss where it happened in the stream; drops of a process that
	// stops before that are in the ds4p.siem.events.dropped metric only.
	KindEventsDropped = "events_dropped"
)

// Actions of consent_changed events.
const (
	ConsentCreated = "create"
	ConsentUpdated = "update"
	ConsentRevoked = "revoke"
)

// Severities of events, mapped to syslog severities by the syslog sink.
const (
	SeverityInfo    = "info"
	SeverityNotice  = "notice"
	SeverityWarning = "warning"
	SeverityAlert   = "alert"
)

// Event is one security event. It never carries PHI: no patient id, no
// token, no query. A consent event names the consent by id, never its
// patient.
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
	// Action, Consent and ConsentVersion describe a consent change: create,
	// update or revoke, the consent's id (as the ledger's consent
	// references name it) and the version written. Exporters hash or drop
	// Consent as they do the ledger's resource ids (patient_ids).
	Action         string `json:"action,omitempty"`
	Consent        string `json:"consent,omitempty"`
	ConsentVersion string `json:"consent_version,omitempty"`
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
