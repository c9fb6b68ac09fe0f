package oracle

import (
	"slices"
	"strings"
	"time"

	"github.com/ds4p/ds4p/internal/synth"
)

// Caller is who asks, as the token the runner minted says.
type Caller struct {
	Sub        string
	Org        string   // "Organization/org-a"
	Purposes   []string // v3-ActReason codes; none: no purpose stated
	Scope      string
	Patient    string // SMART patient context, a Patient id ("pat-3"); "" none
	BreakGlass string // break-the-glass reason; "" none
	TTL        time.Duration
}

// treatment is what state laws on mental health, HIV and domestic violence
// let through without the patient's consent (disclosure for treatment).
var treatment = []string{"TREAT", "ETREAT"}

// maxBreakGlassLifetime bounds an emergency token (42 CFR 2.51 access is a
// short, recorded exception, not a standing grant).
const maxBreakGlassLifetime = time.Hour

// emergency reports whether the caller claims a bona fide medical emergency
// (42 CFR 2.51): emergency treatment as its purpose and nothing beyond
// emergency purposes, a stated reason, in a short-lived token.
func (c Caller) emergency() bool {
	if !slices.Contains(c.Purposes, "ETREAT") || len(strings.TrimSpace(c.BreakGlass)) < 4 {
		return false
	}
	for _, p := range c.Purposes {
		if p != "ETREAT" && p != "BTG" {
			return false
		}
	}
	return c.TTL > 0 && c.TTL <= maxBreakGlassLifetime
}

// onlyFor reports whether the caller states purposes and every one is in allowed.
func (c Caller) onlyFor(allowed []string) bool {
	if len(c.Purposes) == 0 {
		return false
	}
	for _, p := range c.Purposes {
		if !slices.Contains(allowed, p) {
			return false
		}
	}
	return true
}

// MayDisclose states whether the resource may reach the caller at all. It
// is an upper bound on what may leave: anything it refuses is a leak if it
// appears, anything it allows may still rightly be withheld.
//
//   - Another patient's resource never reaches a token bound to one patient.
//   - Ordinary data and directory resources: allowed (not this oracle's concern).
//   - Substance use disorder data (Part 2 or not): only with the patient's
//     consent that permits this organisation for every purpose it states,
//     and, for a Part 2 record, names the recipient and the purpose (42 CFR
//     2.31); or in a medical emergency (42 CFR 2.51).
//   - Mental health, HIV, domestic violence: for treatment, with such a
//     consent, or in an emergency.
//
// A consent counts while in force; an explicit objection of the patient (a
// consent whose deepest matching provision denies, other than a root that
// only frames permit exceptions) overrides any permit.
func MayDisclose(r synth.Resource, c Caller, consents []Consent, now time.Time) bool {
	if c.Patient != "" && r.Patient != "" && r.Patient != "Patient/"+c.Patient {
		return false
	}
	if r.Patient == "" && c.Patient != "" && r.Type == "Patient" {
		return false
	}
	if !r.Sensitive() {
		return true
	}
	if c.emergency() {
		return true
	}
	permitted, objected := consentSays(r, c, consents, now)
	if objected {
		return false
	}
	if permitted {
		return true
	}
	for _, t := range r.Topics {
		if t == synth.TopicSUD || !c.onlyFor(treatment) {
			return false
		}
	}
	return true
}

// consentSays returns whether some consent of the resource's patient in
// force permits it to the caller, and whether one objects.
func consentSays(r synth.Resource, c Caller, consents []Consent, now time.Time) (permitted, objected bool) {
	for _, k := range consents {
		if k.Patient != r.Patient || !k.inForce(now) {
			continue
		}
		v, named, framing := k.judge(c, r.Type)
		switch {
		case v == denies && !framing:
			objected = true
		case v == permits && (named || !r.Part2):
			permitted = true
		}
	}
	return permitted, objected
}
