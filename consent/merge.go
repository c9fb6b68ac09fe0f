package consent

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"time"
)

// SourceUpstream marks consents read from the upstream FHIR server.
const SourceUpstream = "upstream"

// upstreamPrefix starts the policy id of an upstream consent, so that it can
// never collide with a local id (FHIR ids have no colon).
const upstreamPrefix = "upstream:"

// NormalizeUpstream validates a Consent the upstream FHIR server returned,
// exactly as a local one, and normalises it with ID "upstream:<id>",
// Source "upstream" and as Version the resource's meta.versionId (or a hash
// of its content when it has none). An invalid consent is an error: the
// caller skips it, and it cannot make the policy more permissive.
func NormalizeUpstream(raw []byte) (Normalized, error) {
	doc, err := parse(raw, DefaultMaxSize)
	if err != nil {
		return Normalized{}, err
	}
	if doc.res.ID == "" {
		return Normalized{}, &ValidationError{Problems: []Problem{{Path: "Consent.id", Message: "is required on a consent read from the FHIR server"}}}
	}
	version := ""
	if doc.res.Meta != nil {
		version = doc.res.Meta.VersionID
	}
	if version == "" {
		sum := sha256.Sum256(raw)
		version = "h" + hex.EncodeToString(sum[:8])
	}
	n, err := normalizeParsed(doc, upstreamPrefix+doc.res.ID, version)
	if err != nil {
		return Normalized{}, err
	}
	n.Source, n.logicalID = SourceUpstream, doc.res.ID
	return n, nil
}

// identifiersOf returns Consent.identifier as "system|value".
func identifiersOf(ids []identifier) []string {
	var out []string
	for _, id := range ids {
		if id.System != "" && id.Value != "" {
			out = append(out, id.System+"|"+id.Value)
		}
	}
	return out
}

// updatedOf returns the later of meta.lastUpdated and dateTime in unix ns,
// 0 when neither can be read.
func updatedOf(r *resourceJSON) int64 {
	var best int64
	for _, s := range []string{r.DateTime, metaLastUpdated(r)} {
		if s == "" {
			continue
		}
		sp, err := parseSpan(s)
		if err != nil {
			continue
		}
		if ns, ok := startNs(sp.start); ok && ns > best {
			best = ns
		}
	}
	return best
}

func metaLastUpdated(r *resourceJSON) string {
	if r.Meta == nil {
		return ""
	}
	return r.Meta.LastUpdated
}

// Clock is what is known of the upstream server's clock against this
// process's: the upstream's time less this process's lies between Min and
// Max. ClockFromDate measures it from an answer's Date. The zero Clock is
// unknown: MergeClocked then allows UnknownClockDoubt either way.
type Clock struct {
	Min, Max time.Duration
	Known    bool
	// Date is the upstream's time the answer told (its Date header): a
	// copy it listed cannot have been stamped more than a second after it.
	Date time.Time
}

// UnknownClockDoubt is how far the upstream's clock is taken to be from
// this process's, either way, when no answer told (Clock{}).
const UnknownClockDoubt = 5 * time.Minute

// NearTie widens every comparison of a local and an upstream copy's
// stamps: an upstream meta.lastUpdated given to the second, and the
// clocks' drift since they were measured.
const NearTie = 2 * time.Second

// ClockFromDate returns the Clock told by an answer whose Date header says
// date (to the second, truncated), asked at sent and received at recv by
// this process's clock: the upstream stamped date at some moment between
// the two, when its clock read at most a second more. A zero date is
// unknown.
func ClockFromDate(date, sent, recv time.Time) Clock {
	if date.IsZero() || recv.Before(sent) {
		return Clock{}
	}
	return Clock{Min: date.Sub(recv), Max: date.Add(time.Second).Sub(sent), Known: true, Date: date}
}

// bounds returns the clock's interval, UnknownClockDoubt either way when
// it is unknown. A known interval is widened to hold zero: the Date may be
// a gateway's (nginx sets its own), whose clock is not the FHIR server's,
// and one ahead of the server's is told by no stamp (a stamp past the Date
// tells one behind). Measured a minute ahead, a gateway's Date read the
// EHR's revocation, stored 20 s after the local permit by the server's
// clock and this process's, as 40 s before it, and the permit won (QA
// round 32, area A). Copies that the Date's clock and agreeing clocks
// order differently are in doubt.
func (c Clock) bounds() (lo, hi time.Duration) {
	if !c.Known {
		return -UnknownClockDoubt, UnknownClockDoubt
	}
	return min(c.Min, 0), max(c.Max, 0)
}

// Merge is MergeClocked with the upstream's clock unknown.
func Merge(local, upstream []Normalized) []Normalized {
	return MergeClocked(local, upstream, Clock{})
}

// MergeClocked combines a patient's local consents with those the upstream
// FHIR server holds, by this rule (consent/README.md, "Local and upstream
// consents"):
//
//   - Consents are keyed by source and id: distinct consents of both sources
//     all go to the policy, whose deny-wins semantics then apply.
//   - Two copies of the same consent (the upstream id equals the local id,
//     or they share a Consent.identifier) are one consent: the winner is the
//     local copy when it is not active (a local revocation always wins over
//     an upstream active copy), else the one stored later, the upstream
//     copy's meta.lastUpdated (the upstream's clock) read by this process's
//     clock through clock. The winner goes to the policy whole; the loser
//     only with its deny provisions (DenyOnly), and only while it is active.
//   - An upstream copy read and left out (Withdrawn: not in force, or no
//     longer a privacy consent, and failing validation or out of scope) is
//     a copy that is not active: it goes to no policy, but pairs with the
//     local copy as one. Left out before the merge, an EHR's revocation of
//     a copy that fails validation let the local permit apply alone, where
//     the copy's denying stand-in had withheld while it was active (QA
//     round 31, area F).
//   - When the order is in doubt (the stamps lie within the clock's
//     uncertainty and NearTie of each other, or either copy has none), an
//     upstream copy that is not active wins (a revocation wins a near tie);
//     two active copies that say the same go as the local one winning; two
//     that differ are both read as a denial (AsDenial), since neither can
//     be told to be the patient's last word.
//
// The local copy's meta.lastUpdated is this process's clock and the
// upstream copy's the upstream's: compared as they were, a proxy whose
// clock ran ahead let a local permit outrank a revocation the EHR stored
// after it, and an upstream clock ahead let an older, wider upstream permit
// outrank the narrower local one that replaced it (QA round 31, area F).
//
// So a copy can add denials but never permissions: for the same consent the
// policy never sees more permits than the winning copy alone has, and every
// opt-out either copy states still applies. MergeClocked never makes data
// more available than the winning copy alone would.
//
// Neither input is modified; the result shares their elements.
func MergeClocked(local, upstream []Normalized, clock Clock) []Normalized {
	if len(upstream) == 0 {
		return local
	}
	out := make([]Normalized, 0, len(local)+len(upstream))
	paired := make([]bool, len(upstream))
	for _, l := range local {
		j := slices.IndexFunc(upstream, func(u Normalized) bool { return sameConsent(l, u) })
		for j >= 0 && paired[j] {
			k := slices.IndexFunc(upstream[j+1:], func(u Normalized) bool { return sameConsent(l, u) })
			if k < 0 {
				j = -1
				break
			}
			j += 1 + k
		}
		if j < 0 {
			out = append(out, l)
			continue
		}
		// A copy not active and stored before the active local copy
		// changes nothing: another copy, when there is one, is the local
		// copy's match. Found first (its id sorting first), it was, the
		// active older copy became a further active copy, and the local
		// copy, the patient's last word, was read as a denial (QA round
		// 33, area E).
		if l.Status == "active" && staleRevocation(l, upstream[j], clock) {
			for k := j + 1; k < len(upstream); k++ {
				if !paired[k] && sameConsent(l, upstream[k]) && !staleRevocation(l, upstream[k], clock) {
					j = k
					break
				}
			}
		}
		paired[j] = true
		// Further active upstream copies (another id with the same
		// identifier, as an EHR holding the consent twice has): paired
		// too, and never read whole; one not active grants nothing. Left
		// unpaired, the second copy went to the policy whole, and its
		// older, wider permit undid the local copy's revocation or
		// narrowing (QA round 32, area A). The order of three copies is
		// not told: while the local copy is active, it and every active
		// copy are read as a denial; a local revocation still wins over
		// them all. Deny-only readings (OneEach's older versions) only
		// deny, and pass as they are.
		var more []Normalized
		for k := j + 1; k < len(upstream); k++ {
			if u := upstream[k]; !paired[k] && !u.DenyOnly && !u.gone && u.Status == "active" && sameConsent(l, u) {
				paired[k] = true
				more = append(more, upstream[k])
			}
		}
		// A further copy that is not active (revoked, withdrawn) and was
		// stored after the active local copy, or in doubt, revokes it, as
		// it does alone: paired too, and the local copy and every active
		// copy give their denies alone. Left unpaired, it went to the
		// policy as an inactive consent of its own, which no one reads,
		// and the local copy, later than an active older copy found
		// first, won whole (QA round 33, area A). One stored before the
		// local copy grants nothing and changes nothing.
		revoked := false
		for k := j + 1; k < len(upstream) && l.Status == "active"; k++ {
			if u := upstream[k]; !paired[k] && !u.DenyOnly && (u.gone || u.Status != "active") && sameConsent(l, u) &&
				storedOrder(l, u, clock) >= 0 {
				paired[k], revoked = true, true
			}
		}
		if revoked {
			for _, n := range append([]Normalized{l, upstream[j]}, more...) {
				if d, ok := denyOnly(n); ok {
					out = append(out, d)
				}
			}
			continue
		}
		if len(more) > 0 {
			more = append(more, upstream[j])
			if l.Status == "active" {
				out = append(out, inDoubt(l))
			} else {
				out = append(out, l)
			}
			for _, u := range more {
				switch {
				case u.gone:
				case l.Status == "active" && u.Status == "active":
					out = append(out, inDoubt(u))
				default:
					if d, ok := denyOnly(u); ok {
						out = append(out, d)
					}
				}
			}
			continue
		}
		u := upstream[j]
		winner, loser := l, u
		if l.Status == "active" {
			switch storedOrder(l, u, clock) {
			case 1: // the upstream copy is later
				winner, loser = u, l
			case 0:
				switch {
				case u.Status != "active":
					winner, loser = u, l
				case !samePolicy(l, u):
					out = append(out, inDoubt(l), inDoubt(u))
					continue
				}
			}
		}
		if !winner.gone {
			out = append(out, winner)
		}
		if d, ok := denyOnly(loser); ok {
			out = append(out, d)
		}
	}
	for j, u := range upstream {
		if !paired[j] && !u.gone {
			out = append(out, u)
		}
	}
	return out
}

// staleRevocation reports whether u, an upstream copy of the active
// local copy l, is not active and was stored before l.
func staleRevocation(l, u Normalized, clock Clock) bool {
	return !u.DenyOnly && (u.gone || u.Status != "active") && storedOrder(l, u, clock) < 0
}

// storedOrder tells which of a local copy l and an upstream copy u of one
// consent was stored later: 1 u, -1 l, 0 in doubt (see MergeClocked).
func storedOrder(l, u Normalized, clock Clock) int {
	if l.serverTime == 0 || u.serverTime == 0 {
		return 0
	}
	if clock.Known && !clock.Date.IsZero() && u.serverTime > clock.Date.Add(time.Second+NearTie).UnixNano() {
		// Stamped after the answer that listed it, by the Date's clock:
		// the stamps are not by that clock (a Date set by a gateway whose
		// clock is not the server's), and reading them by it would order
		// the copies at random.
		return 0
	}
	lo, hi := clock.bounds()
	// u's stamp by this process's clock lies within [u-hi, u-lo].
	switch {
	case u.serverTime-int64(hi)-int64(NearTie) > l.serverTime:
		return 1
	case u.serverTime-int64(lo)+int64(NearTie) < l.serverTime:
		return -1
	}
	return 0
}

// samePolicy reports whether two copies (or versions) of one consent give
// the policy the same consent, apart from their ids and versions.
func samePolicy(a, b Normalized) bool {
	return a.Status == b.Status && a.Patient == b.Patient && a.Start == b.Start && a.End == b.End &&
		a.RootTypeFrom == b.RootTypeFrom && a.DenyOnly == b.DenyOnly && a.Unreadable == b.Unreadable &&
		slices.Equal(a.Policies, b.Policies) && reflect.DeepEqual(a.Rules, b.Rules)
}

// inDoubt returns n read as a denial (AsDenial), its version marked, for a
// copy or version of a consent whose order against another that says
// something else cannot be told.
func inDoubt(n Normalized) Normalized {
	n = AsDenial(n)
	n.Version += "+in-doubt"
	return n
}

// sameConsent reports whether a local and an upstream consent are copies of
// one consent.
func sameConsent(l, u Normalized) bool {
	if l.logicalID != "" && l.logicalID == u.logicalID {
		return true
	}
	for _, id := range l.identifiers {
		if slices.Contains(u.identifiers, id) {
			return true
		}
	}
	return false
}

// denyOnly returns n with only its deny rules, or false when nothing of it
// can deny (it is not active, or it has no deny rule). A root deny that
// states no criterion while the consent grants permit exceptions is
// dropped: it only says "no one but those named", the rule for restricted
// data without consent anyway, and would otherwise deny every recipient the
// winning copy permits.
func denyOnly(n Normalized) (Normalized, bool) {
	if n.Status != "active" {
		return Normalized{}, false
	}
	hasPermitException := slices.ContainsFunc(n.Rules, func(r Rule) bool { return r.Depth > 0 && r.Type == "permit" })
	rules := []Rule{}
	for _, r := range n.Rules {
		if r.Type != "deny" || (r.Depth == 0 && hasPermitException && statesNothing(r.Conditions[0])) {
			continue
		}
		rules = append(rules, r)
	}
	if len(rules) == 0 {
		return Normalized{}, false
	}
	// The version says so, so that caches keyed by consent versions never
	// mistake it for the whole consent.
	n.Rules, n.DenyOnly, n.Version = rules, true, n.Version+"+deny-only"
	return n, true
}

// statesNothing reports whether a condition names no criterion besides its
// period.
func statesNothing(c Cond) bool {
	return len(c.Actors)+len(c.Roles)+len(c.Purposes)+len(c.Labels)+len(c.Classes)+
		len(c.Codes)+len(c.Actions)+len(c.Data)+len(c.DataRefs) == 0 && c.DataStart == 0 && c.DataEnd == 0
}

// Unreadable returns what the policy is given for an upstream consent that
// fails validation: nothing when it is plainly not in force (a status
// other than active), and otherwise a stand-in that denies, with the
// consent's policyRule codes and policy URIs (R5: regulatoryBasis codes
// and policyBasis.url), so a general opt-out keeps its reach, no
// criteria and no exceptions. Skipping an unreadable consent could drop an
// opt-out and widen disclosure; the stand-in cannot widen anything. The
// stand-in's ID is "upstream:<id>" (or "upstream:unreadable"), its
// version a hash of the content, and its patient the consent's patient or
// subject when that can be read ("" otherwise).
func Unreadable(raw []byte) (Normalized, bool) {
	var lax struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		// Written otherwise than FHIR's JSON writes them (invalid, but
		// a server may store it, and other readers take one object as
		// an array's one element and an array of one as its element):
		// patient and subject as an array of References, or a reference
		// string; policyRule as an array, regulatoryBasis as one object.
		// Read into fixed shapes, such a member was read as nothing: the
		// stand-in without a patient was dropped in sync mode, and one
		// without its OPTOUT governed restricted data only, so the
		// patient's opt-out withheld nothing (QA round 34, area A).
		Patient         json.RawMessage `json:"patient"`
		Subject         json.RawMessage `json:"subject"`
		PolicyRule      json.RawMessage `json:"policyRule"`
		RegulatoryBasis json.RawMessage `json:"regulatoryBasis"` // R5's policyRule
		Policy          []struct {
			URI string `json:"uri"`
		} `json:"policy"`
		PolicyBasis struct {
			URL string `json:"url"`
		} `json:"policyBasis"` // R5's policy
	}
	_ = json.Unmarshal(raw, &lax) // best effort: anything unread counts as active
	if lax.Status != "" && lax.Status != "active" && statuses[lax.Status] {
		return Normalized{}, false
	}
	id := lax.ID
	if !fhirID.MatchString(id) {
		id = "unreadable"
	}
	sum := sha256.Sum256(raw)
	n := Normalized{
		ID: upstreamPrefix + id, Version: "h" + hex.EncodeToString(sum[:8]), Status: "active",
		Policies: []string{}, Source: SourceUpstream, Unreadable: true, RootTypeFrom: rootFromDefault,
		Rules: []Rule{{Path: policyRulePath, Type: "deny", Conditions: []Cond{emptyCond()}}},
	}
	// The patient as Patient/<id>, also from an absolute or versioned
	// reference (https://ehr.example/fhir/Patient/p1, Patient/p1/_history/2),
	// which validation refuses: a stand-in without patient was dropped by
	// the sync rounds, so an opt-out the EHR wrote so withheld nothing. The
	// stand-in only denies, so reading another server's Patient/p1 as this
	// one's can withhold and never disclose.
	n.Patient = patientOf(append(laxReferences(lax.Patient), laxReferences(lax.Subject)...)...)
	// The policies as policies() reads them from a valid consent, R4 or
	// R5: an R5 opt-out (regulatoryBasis OPTOUT) that failed validation
	// was given none, so its stand-in governed restricted data only and
	// the patient's ordinary records flowed as if it were not there.
	for _, cc := range append(oneOrMany[laxConcept](lax.PolicyRule), oneOrMany[laxConcept](lax.RegulatoryBasis)...) {
		for _, c := range oneOrMany[laxCoding](cc.Coding) {
			n.Policies = appendNew(n.Policies, c.Code)
		}
	}
	for _, p := range lax.Policy {
		n.Policies = appendNew(n.Policies, p.URI)
	}
	n.Policies = appendNew(n.Policies, lax.PolicyBasis.URL)
	return n, true
}

// optOutCodes are the v3-ActCode consent directive codes (ActConsentDirective)
// of an opt-out: by their definition a directive about collecting,
// accessing, using or disclosing the grantor's information.
var optOutCodes = map[string]bool{"OPTOUT": true, "OPTOUTE": true}

// researchPurpose is the v3-ActReason purpose of research; the policy's
// purpose hierarchy extends a deny of it to the narrower purposes
// (CLINTRCH ...).
const researchPurpose = "HRESCH"

// ScopedOptOut reads raw, an upstream Consent NotPrivacy reports (scope
// research, treatment or adr), whose policyRule (R5: regulatoryBasis) names
// an opt-out of v3-ActCode (OPTOUT, OPTOUTE). Such a code is a privacy
// consent directive whatever the scope says, and leaving the consent out
// (as 8a16f10 did) ignored a patient's opt-out the EHR mis-coded. It
// returns a denying stand-in, as Unreadable does, that denies what the
// consent says at least: under scope research alone a denial of research
// purposes (HRESCH and, by the policy's purpose hierarchy, those narrower),
// governing the patient's ordinary records too (its policies keep the
// opt-out code), so that a treating caller is not refused; under treatment
// or adr (read as a mis-coded privacy opt-out) a denial of everything.
// One whose policyRule or regulatoryBasis cannot be read is a denial of
// everything too. false when raw names no such code or is not in force
// (inactive ...).
func ScopedOptOut(raw []byte) (Normalized, bool) {
	scopes, ok := otherScopesOf(raw)
	if !ok {
		return Normalized{}, false
	}
	type concept struct {
		Coding []struct {
			System string `json:"system"`
			Code   string `json:"code"`
		} `json:"coding"`
	}
	var lax struct {
		PolicyRule      concept   `json:"policyRule"`
		RegulatoryBasis []concept `json:"regulatoryBasis"`
	}
	if json.Unmarshal(raw, &lax) != nil {
		// A policyRule or regulatoryBasis that cannot be read (an array
		// where a CodeableConcept belongs ...) may name an opt-out: a
		// denial of everything, as an unreadable privacy consent is, not
		// left out (QA round 31, area D).
		var members map[string]json.RawMessage
		if json.Unmarshal(raw, &members) == nil && (members["policyRule"] != nil || members["regulatoryBasis"] != nil) {
			return Unreadable(raw)
		}
		return Normalized{}, false
	}
	// The code is read whatever its system, as a privacy consent's
	// policyRule is (policies): an OPTOUT written with no system, or under
	// v3-ActCode's https or trailing-slash spelling, left the consent out
	// (QA round 32, area A). Read so, it can only deny.
	optOut := false
	for _, cc := range append([]concept{lax.PolicyRule}, lax.RegulatoryBasis...) {
		for _, c := range cc.Coding {
			optOut = optOut || optOutCodes[c.Code]
		}
	}
	if !optOut {
		return Normalized{}, false
	}
	n, ok := Unreadable(raw)
	if !ok {
		return Normalized{}, false
	}
	if !slices.ContainsFunc(scopes, func(s string) bool { return s != "research" }) {
		c := emptyCond()
		c.Purposes = []string{researchPurpose}
		n.Rules = []Rule{{Path: policyRulePath, Type: "deny", Conditions: []Cond{c}}}
	}
	return n, true
}

// Withdrawn returns the place-holder of an upstream Consent a read leaves
// out (NotPrivacy, or Unreadable because it is plainly not in force): its
// id, version, patient and time, status as written (inactive when it is
// not a privacy consent) and no rules, marked Gone. It takes the place of
// the consent's other versions in OneEach and in the sync mirror, and goes
// to no policy; Merge reads it as a copy of a local consent that is not
// active (with its Consent.identifier). false when raw is not a Consent
// with a FHIR id.
func Withdrawn(raw []byte) (Normalized, bool) {
	var lax struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
		Status       string `json:"status"`
		Meta         struct {
			VersionID   string `json:"versionId"`
			LastUpdated string `json:"lastUpdated"`
		} `json:"meta"`
		DateTime string `json:"dateTime"`
		Date     string `json:"date"` // R5
	}
	var ids struct {
		Identifier []identifier `json:"identifier"`
	}
	_ = json.Unmarshal(raw, &ids) // best effort: without them it pairs by id alone
	if json.Unmarshal(raw, &lax) != nil || lax.ResourceType != "Consent" || !fhirID.MatchString(lax.ID) {
		return Normalized{}, false
	}
	version := lax.Meta.VersionID
	if version == "" {
		sum := sha256.Sum256(raw)
		version = "h" + hex.EncodeToString(sum[:8])
	}
	status := lax.Status
	if status == "active" || !statuses[status] {
		status = "inactive"
	}
	n := Normalized{ID: upstreamPrefix + lax.ID, Version: version, Status: status, Policies: []string{},
		Rules: []Rule{}, Source: SourceUpstream, logicalID: lax.ID, identifiers: identifiersOf(ids.Identifier), gone: true}
	n.updated = updatedOf(&resourceJSON{DateTime: cmp.Or(lax.DateTime, lax.Date), Meta: &metaJSON{LastUpdated: lax.Meta.LastUpdated}})
	n.serverTime = updatedOf(&resourceJSON{Meta: &metaJSON{LastUpdated: lax.Meta.LastUpdated}})
	var refs struct {
		Patient, Subject json.RawMessage // as Unreadable reads them
	}
	_ = json.Unmarshal(raw, &refs)
	n.Patient = patientOf(append(laxReferences(refs.Patient), laxReferences(refs.Subject)...)...)
	return n, true
}

// patientOf returns Patient/<id> from the last of refs (R4 patient, R5
// subject) that names one, relative, absolute or versioned; "" when none.
func patientOf(refs ...string) string {
	patient := ""
	for _, ref := range refs {
		if patientRef.MatchString(ref) {
			patient = ref
		} else if rel, ok := typeID(ref); ok && patientRef.MatchString(rel) {
			patient = rel
		}
	}
	return patient
}

// OneEach picks one version of each upstream consent the list holds more
// than once (an upstream answering two versions of one Consent, or one of
// its _history, in a search): the later as the server ordered them
// (versionOrder: a numeric meta.versionId, then meta.lastUpdated), or, when
// that order cannot tell them apart, one not active (a withdrawal wins a
// tie). keep are the indices of the picked ones, in list order; the
// others, while active, give their deny provisions only (denyOnly, as
// Merge does for two copies of one consent), each under an id of its own,
// "upstream:<id>/_history/<version>". Read whole, as before, an
// older version that permitted went to the policy beside the newer one
// that revoked it; kept last (sync), whichever version the upstream listed
// last counted. Stand-ins without a readable id are all kept.
//
// Active versions the server's order cannot tell from the picked one (the
// same meta.lastUpdated and versionIds that are not numbers, Medplum's
// UUIDs, or no stamp) that say something else make the order a doubt: the
// picked one, and each such version under its id of its own, are read as a
// denial (AsDenial, version +in-doubt). The one listed first won, so an
// older, wider permit could outrank the narrower version that replaced it
// (QA round 31, area F). OneEach then replaces list[i] of the picked index
// by its denial.
func OneEach(list []Normalized) (keep []int, denies []Normalized) {
	const unreadable = upstreamPrefix + "unreadable"
	win := make(map[string]int, len(list))
	for i, n := range list {
		if n.ID == unreadable {
			continue
		}
		w, ok := win[n.ID]
		if !ok {
			win[n.ID] = i
			continue
		}
		switch versionOrder(n, list[w]) {
		case 1:
			win[n.ID] = i
		case 0:
			if n.Status != "active" && list[w].Status == "active" {
				win[n.ID] = i
			}
		}
	}
	// The active versions in doubt against an active picked one.
	tied, doubt := map[int]bool{}, map[string]bool{}
	for i, n := range list {
		w, ok := win[n.ID]
		if !ok || w == i || n.ID == unreadable || n.gone || n.Status != "active" || list[w].gone || list[w].Status != "active" {
			continue
		}
		if versionOrder(n, list[w]) == 0 && !samePolicy(n, list[w]) {
			tied[i], doubt[n.ID] = true, true
		}
	}
	used := map[string]bool{}
	for i, n := range list {
		if n.ID == unreadable || win[n.ID] == i {
			if n.ID != unreadable && doubt[n.ID] {
				list[i] = inDoubt(n)
			}
			keep = append(keep, i)
			continue
		}
		d, ok := denyOnly(n)
		if tied[i] {
			// It only denies, as a deny-only reading does (the mirror
			// keeps it beside its consent by that mark).
			d, ok = inDoubt(n), true
			d.DenyOnly = true
		}
		if ok && !n.gone {
			// An id of its own (the policy keys consents by id), naming
			// the version: upstream:<id>/_history/<version>.
			id := n.ID + "/_history/" + n.Version
			for k := 2; used[id]; k++ {
				id = n.ID + "/_history/" + n.Version + "-" + strconv.Itoa(k)
			}
			used[id], d.ID = true, id
			denies = append(denies, d)
		}
	}
	return keep, denies
}

// DenyOnly returns n with its deny provisions alone, as OneEach keeps a
// version it did not pick; false when nothing of n can deny (it is not
// active, or has no deny).
func DenyOnly(n Normalized) (Normalized, bool) { return denyOnly(n) }

// versionOrder tells which of two versions of one consent the server
// wrote later: 1 a, -1 b, 0 it cannot tell. By numeric versionId (HAPI),
// then meta.lastUpdated (Medplum's versionIds are UUIDs); never by
// Consent.dateTime, which is the author's (when the consent was agreed to)
// and may lie ahead of when the server stored a later version: a permit
// dated ahead outranked its revocation (QA round 30, area F), and on a tie
// of the server's stamps the author's date decided (QA round 31, area F).
func versionOrder(a, b Normalized) int {
	va, errA := strconv.ParseUint(a.Version, 10, 64)
	vb, errB := strconv.ParseUint(b.Version, 10, 64)
	if errA == nil && errB == nil && va != vb {
		return cmp.Compare(va, vb)
	}
	if a.serverTime != 0 && b.serverTime != 0 {
		return cmp.Compare(a.serverTime, b.serverTime)
	}
	return 0
}

// AsDenial returns n read as Unreadable reads a consent that fails
// validation, but keeping what n says about itself: its id, version,
// status, patient, period, policies and the identity Merge matches copies
// by. Its rules become one unconditional deny, marked Unreadable. It is
// for a consent that was read but whose provisions cannot be trusted to
// withhold what they were written to withhold (an upstream deny naming a
// code ds4p does not know, so that it would match nothing): the stand-in
// cannot widen anything, and a later copy of the consent still replaces it.
func AsDenial(n Normalized) Normalized {
	n.Rules = []Rule{{Path: policyRulePath, Type: "deny", Conditions: []Cond{emptyCond()}}}
	n.RootTypeFrom, n.Unreadable, n.DenyOnly = rootFromDefault, true, false
	return n
}

// laxConcept is the part of a CodeableConcept Unreadable reads.
type laxConcept struct {
	Coding json.RawMessage `json:"coding"` // laxCoding, one or an array (oneOrMany)
}

type laxCoding struct {
	Code string `json:"code"`
}

// oneOrMany reads raw as an array of T, or as one T: those it can read.
func oneOrMany[T any](raw json.RawMessage) []T {
	var many []T
	if json.Unmarshal(raw, &many) == nil {
		return many
	}
	var one T
	if json.Unmarshal(raw, &one) == nil {
		return []T{one}
	}
	return nil
}

// laxReferences are the reference strings of raw: a Reference's, each of
// an array of them, or raw itself when it is a string.
func laxReferences(raw json.RawMessage) []string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []string{s}
	}
	var out []string
	for _, r := range oneOrMany[struct {
		Reference string `json:"reference"`
	}](raw) {
		out = append(out, r.Reference)
	}
	return out
}
