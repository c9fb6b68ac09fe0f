package consent

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/ds4p/ds4p/labels"
)

// maxDepth bounds how deeply provisions may nest.
const maxDepth = 32

const (
	confidentialitySystem = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
	actCodeSystem         = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
)

// node is one checked provision: its effective type, its own conditions and
// its nested provisions.
type node struct {
	path     string // "provision", "provision.provision[1]", ...
	typ      string // permit | deny
	cond     Cond
	children []*node
}

// Where the root provision's type came from (Normalized.RootTypeFrom).
const (
	rootFromProvision  = "provision.type"
	rootFromPolicyRule = "policyRule"
	rootFromDefault    = "default"
)

// baseRule returns the base decision R4 derives from Consent.policyRule when
// the root provision has no type (R4: "Not permitted in root rule, required
// in all nested rules"): OPTIN permits, OPTOUT (or OPTOUTE, opt-out with
// exceptions) denies, and anything else (42CFRPart2, another policy, none,
// or OPTIN and an opt-out together) denies, the conservative reading. Only
// v3-ActCode codings count.
func baseRule(rule *codeableConcept) (typ, from string) {
	optIn, optOut := false, false
	if rule != nil {
		for _, c := range rule.Coding {
			if currentSystem(c.System) != actCodeSystem {
				continue
			}
			optIn = optIn || c.Code == "OPTIN"
			optOut = optOut || optOutCodes[c.Code]
		}
	}
	switch {
	case optOut:
		return "deny", rootFromPolicyRule
	case optIn:
		return "permit", rootFromPolicyRule
	}
	return "deny", rootFromDefault
}

// checkRoot decodes and checks the provision tree; nil when there is none.
// A root without a type (the R4 form) takes the base decision of the
// policyRule; an explicit root type (R5-style, IHE PCF) is kept. It returns
// where the root's type came from.
func checkRoot(raw json.RawMessage, policyRule *codeableConcept, keysOK bool, r5 roleOptional, errs *problems) (*node, string) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, ""
	}
	p := decodeProvision(raw, keysOK, errs)
	from := rootFromProvision
	if p.Type == "" {
		p.Type, from = baseRule(policyRule)
	}
	return checkProvision(p, "provision", "", 0, r5, errs), from
}

// checkProvision checks one provision and, recursively, its children. A
// nested provision without a type is an exception to its parent: it takes
// the opposite type (R4 requires the type on nested provisions; this reading
// is the only one under which omitting it still means something).
func checkProvision(p *provisionJSON, path, parentType string, depth int, r5 roleOptional, errs *problems) *node {
	at := "Consent." + path
	if depth >= maxDepth {
		errs.add(at, "nests deeper than %d levels", maxDepth)
		return nil
	}
	if len(p.ModifierExtension) > 0 {
		errs.add(at+".modifierExtension", "is not understood and could change the provision's meaning")
	}
	n := &node{path: path, typ: provisionType(p.Type, parentType, at, errs)}
	n.cond = conditions(p, n.typ, at, r5, errs)
	for i := range p.Provision {
		child := checkProvision(&p.Provision[i], index(path+".provision", i), n.typ, depth+1, r5, errs)
		if child != nil {
			n.children = append(n.children, child)
		}
	}
	return n
}

// provisionType returns the provision's effective type.
func provisionType(typ, parentType, at string, errs *problems) string {
	switch typ {
	case "permit", "deny":
		return typ
	case "":
		return opposite(parentType)
	}
	errs.add(at+".type", "%q is not permit or deny", typ)
	return ""
}

// opposite returns the type an exception to a provision of type t has.
func opposite(t string) string {
	switch t {
	case "permit":
		return "deny"
	case "deny":
		return "permit"
	}
	return ""
}

// conditions checks the matching elements of one provision of type typ and
// returns them in policy form. An element that names nothing matchable is an
// error, since an empty list means "no constraint" and would widen the
// provision.
func conditions(p *provisionJSON, typ, at string, r5 roleOptional, errs *problems) Cond {
	c := Cond{
		Actors:   actors(p.Actor, typ, at+".actor", errs),
		Roles:    roles(p.Actor, at+".actor", r5, errs),
		Purposes: purposeCodes(p.Purpose, at+".purpose", errs),
		Labels:   labelCodes(p.SecurityLabel, typ, at+".securityLabel", errs),
		Classes:  classCodes(p.Class, at+".class", errs),
		Codes:    conceptCodes(p.Code, at+".code", systemCodes, errs),
		Actions:  conceptCodes(p.Action, at+".action", actionCodes, errs),
	}
	c.Data, c.DataRefs, c.foreignData = dataRefs(p.Data, at+".data", errs)
	var startLoose, endLoose, dataStartLoose, dataEndLoose bool
	c.Start, c.End, startLoose, endLoose = checkPeriod(p.Period, at+".period", errs)
	c.DataStart, c.DataEnd, dataStartLoose, dataEndLoose = checkPeriod(p.DataPeriod, at+".dataPeriod", errs)
	c.zoneless = zonelessBounds{startLoose, endLoose, dataStartLoose, dataEndLoose}
	return c
}

// actors returns each actor's reference and identifier forms. In a deny,
// an actor reference that is absolute or versioned
// ("https://ehr.example/fhir/Organization/o1", "Organization/o1/_history/2")
// is also given as Type/id, the form callers are matched by: written
// consents refuse such references (checkActorRefs), but upstream ones are
// read as the EHR wrote them, and as written the deny matched no caller
// and withheld nothing. A permit reads it so only under a base the
// upstream answers to (SetLocalServer: the EHR naming its own party by
// URL); under another base, or with no bases set, it keeps the reference
// as written and matches no one (another server's Organization/o1 is not
// this one's).
func actors(list []actor, typ, at string, errs *problems) []string {
	out := []string{}
	for i, a := range list {
		modifierExtension(a.ModifierExtension, index(at, i), errs)
		forms := actorForms(a.Reference, index(at, i)+".reference", errs)
		out = append(out, forms...)
		if a.Reference == nil || a.Reference.Reference == "" {
			continue
		}
		ref := a.Reference.Reference
		if rel, ok := typeID(ref); ok && rel != ref && (typ == "deny" || localServer.Load() != nil && isLocalRef(ref)) {
			out = append(out, rel)
		}
	}
	return out
}

// actorForms returns "Type/id" and "system|value" for one actor reference.
func actorForms(ref *reference, at string, errs *problems) []string {
	if ref == nil {
		errs.add(at, "is required")
		return nil
	}
	var out []string
	if ref.Reference != "" {
		out = append(out, literalRef(ref.Reference, at+".reference", errs))
	}
	if id := ref.Identifier; id != nil {
		if id.System == "" || id.Value == "" {
			errs.add(at+".identifier", "needs both system and value")
		} else {
			out = append(out, id.System+"|"+id.Value)
			if id.System != npiSystem && id.System != npiOID && isNPISystem(id.System) {
				out = append(out, npiSystem+"|"+strings.TrimSpace(id.Value))
			}
		}
	}
	if ref.Reference == "" && ref.Identifier == nil {
		errs.add(at, "has neither reference nor identifier")
	}
	return out
}

// The NPI's identifier system, by URL and by OID (the policy matches a
// caller's NPI under either: rego/ds4p/consent.rego).
const (
	npiSystem = "http://hl7.org/fhir/sid/us-npi"
	npiOID    = "urn:oid:2.16.840.1.113883.4.6"
)

// isNPISystem reports whether system names the NPI in a spelling an EHR
// writes: https, "www.", another case, a trailing slash, white space, the
// OID's URN in any case (RFC 8141). An actor so named is also given under
// npiSystem: compared as written, a deny naming the caller's NPI matched
// no caller and withheld nothing. Both name the same identifier, so a
// permit widens to no one else.
func isNPISystem(system string) bool {
	s := strings.ToLower(strings.TrimSpace(system))
	if oid, ok := strings.CutPrefix(s, "urn:oid:"); ok {
		return oid == npiOID[len("urn:oid:"):]
	}
	for _, scheme := range []string{"http://", "https://"} {
		if rest, ok := strings.CutPrefix(s, scheme); ok {
			rest = strings.TrimRight(strings.TrimPrefix(rest, "www."), "/")
			return rest == npiSystem[len("http://"):]
		}
	}
	return false
}

// literalRef accepts a reference the proxy can match, i.e. not a contained one.
func literalRef(ref, at string, errs *problems) string {
	if strings.HasPrefix(ref, "#") {
		errs.add(at, "%q points into contained resources, which are not supported", ref)
	}
	return ref
}

// modifierExtension reports a modifierExtension of the element at: FHIR
// says a system that does not understand one must not process the element,
// which it may give another meaning (an actor "everyone but", data "not
// this"); read as absent, a permit could reach what the patient excluded.
func modifierExtension(ext []json.RawMessage, at string, errs *problems) {
	if len(ext) > 0 {
		errs.add(at+".modifierExtension", "is not understood and could change the element's meaning")
	}
}

// roles returns every actor's role codes. R4 requires a role on each actor;
// R5 does not (Consent.provision.actor.role 0..1), and an R5 actor without
// one names the party the provision is about, as a level stating no role
// does in the policy (names_recipients): a permit's recipient, a deny's
// refused party. Refused, an upstream R5 consent naming its actors so was
// read as a denial of everything for its patient.
func roles(list []actor, at string, r5 roleOptional, errs *problems) []string {
	out := []string{}
	for i, a := range list {
		roleAt := index(at, i) + ".role"
		if a.Role == nil && r5 {
			continue
		}
		if a.Role == nil {
			errs.add(roleAt, "is required")
			continue
		}
		out = append(out, conceptCodes([]codeableConcept{*a.Role}, roleAt, codeOnly, errs)...)
	}
	return out
}

// dataMeanings is the R4 consent-data-meaning value set.
var dataMeanings = map[string]bool{
	"instance": true, "related": true, "dependents": true, "authoredby": true,
}

// dataRefs returns the references of provision.data, whatever their meaning,
// and each reference with its meaning. Data lists every reference so that a
// policy that cannot test data treats the provision as constrained (a deny
// applies, a permit does not); only DataRefs says which references mean the
// instance alone. foreign holds, at the index of each reference that names
// a resource under a base URL the upstream does not answer to (see
// SetLocalServer), the reference as written, and "" at the others: a permit
// reads such a reference as written (settle), so that it matches no item.
func dataRefs(list []data, at string, errs *problems) ([]string, []DataRef, []string) {
	refs, detail := []string{}, []DataRef{}
	var foreign []string
	for i, d := range list {
		dAt := index(at, i)
		modifierExtension(d.ModifierExtension, dAt, errs)
		if !dataMeanings[d.Meaning] {
			errs.add(dAt+".meaning", "%q is not one of instance, related, dependents, authoredby", d.Meaning)
		}
		if d.Reference == nil || d.Reference.Reference == "" {
			errs.add(dAt+".reference.reference", "is required")
			continue
		}
		ref, ok := dataRef(d.Reference.Reference, dAt+".reference.reference", errs)
		if !ok {
			continue
		}
		if !isLocalRef(d.Reference.Reference) {
			if foreign == nil {
				foreign = make([]string, len(refs), len(list))
			}
			foreign = append(foreign, d.Reference.Reference)
		} else if foreign != nil {
			foreign = append(foreign, "")
		}
		refs = append(refs, ref)
		detail = append(detail, DataRef{Reference: ref, Meaning: d.Meaning})
	}
	return refs, detail, foreign
}

// localServer tells whether a base URL is the upstream's (SetLocalServer);
// nil when none was set.
var localServer atomic.Pointer[func(base string) bool]

// SetLocalServer sets the test of whether an absolute reference's base URL
// is the upstream FHIR server's (its base or an alias: proxy.LocalServer).
// A provision.data reference under another base names another server's
// resource, which shares only its Type/id with a local one: a permit of
// https://hie.example/fhir/DocumentReference/5 was read as the local
// DocumentReference/5 and disclosed a record the patient never named. A
// permit now reads such a reference as written, so that it matches no item.
// A deny keeps reading it as Type/id: a base not known as the upstream's
// may still be this server's under a name not configured (the proxy's own
// public base, which callers see in fullUrls; an alias), and withholding
// the local resource of that Type/id at worst withholds one record too
// many, where reading it as foreign could lose the patient's refusal.
// nil, the default (the command line, tests), reads every base as local.
// It applies to consents normalised after the call: serve sets it at start.
func SetLocalServer(local func(base string) bool) {
	if local == nil {
		localServer.Store(nil)
		return
	}
	localServer.Store(&local)
}

// isLocalRef reports whether a provision.data reference (one dataRef
// accepts) is relative or under a base the upstream answers to.
func isLocalRef(ref string) bool {
	local := localServer.Load()
	if local == nil {
		return true
	}
	parts := strings.Split(ref, "/")
	if n := len(parts); n >= 4 && parts[n-2] == "_history" {
		parts = parts[:n-2]
	}
	if len(parts) <= 2 {
		return true // relative: Type/id
	}
	return (*local)(strings.Join(parts[:len(parts)-2], "/"))
}

// resourceID is a FHIR id.
var resourceID = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// dataRef returns a provision.data reference as "Type/id", the form the
// policy compares with an item's own reference (input.item.facts.reference):
// a relative reference as is, an absolute one without its base URL, either
// without a trailing "/_history/<version>" (a consent about one version of a
// resource is about the resource: its other versions carry the same
// information). A reference that names no single resource of a known type
// (urn:uuid:, a conditional reference, a contained one, a misspelt type)
// would match no item, silently narrowing a deny, so it is an error.
func dataRef(ref, at string, errs *problems) (string, bool) {
	fail := func() (string, bool) {
		errs.add(at, "%q does not name one resource as [base URL/]Type/id[/_history/version]; "+
			"it could not be matched against any item", ref)
		return "", false
	}
	if strings.HasPrefix(ref, "#") {
		literalRef(ref, at, errs)
		return "", false
	}
	if rel, ok := typeID(ref); ok {
		return rel, true
	}
	return fail()
}

// typeID returns the "Type/id" a literal reference names: a relative
// reference as is, an absolute one (under an http(s) base URL) without its
// base, either without a trailing "/_history/<version>"; false when ref
// names no single resource of an R4 type.
func typeID(ref string) (string, bool) {
	parts := strings.Split(ref, "/")
	if n := len(parts); n >= 4 && parts[n-2] == "_history" {
		if !resourceID.MatchString(parts[n-1]) {
			return "", false
		}
		parts = parts[:n-2]
	}
	n := len(parts)
	if n < 2 || !resourceTypes[parts[n-2]] || !resourceID.MatchString(parts[n-1]) {
		return "", false
	}
	if n > 2 {
		// An absolute reference: a base URL before Type/id.
		base := strings.Join(parts[:n-2], "/")
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.RawQuery != "" || u.Fragment != "" {
			return "", false
		}
	}
	return parts[n-2] + "/" + parts[n-1], true
}

// codeOnly returns each coding's code, reporting codings without one.
func codeOnly(list []coding, at string, errs *problems) []string {
	out := []string{}
	for i, c := range list {
		if c.Code == "" {
			errs.add(index(at, i)+".code", "is required")
			continue
		}
		out = append(out, c.Code)
	}
	return out
}

// systemCodes returns "system|code" for each coding, with legacy label
// systems renamed, reporting codings without both parts. A coding of a
// known clinical system written in another spelling (an OID, https, a
// "|version" suffix ..., see labels.CodeSystem) is returned twice: as written
// and with the system's canonical URL, which is how FHIR servers code
// their resources. The policy compares "system|code" exactly with an
// item's codings, so a deny naming a code by the OID of its system matched
// no item coded by the URL and withheld nothing; the form as written is
// kept so that items coded by that spelling still match. Both name the
// same code, so a permit widens to nothing else. So is the code as the
// labeller keys it (labels.CodeKey), as an item's codings also carry it.
func systemCodes(list []coding, at string, errs *problems) []string {
	out := []string{}
	for i, c := range list {
		if c.System == "" || c.Code == "" {
			errs.add(index(at, i), "needs both system and code")
			continue
		}
		system := currentSystem(c.System)
		out = append(out, system+"|"+c.Code)
		// The code as the labeller keys it too (ICD without dots, codes
		// in upper case, an NDC in its 11-digit form): a patient's
		// exception for ICD-10-CM f11.20 did not reach the F11.20
		// Condition, which was served (QA round 33, area C).
		canon, key := labels.CodeKey(system, c.Code)
		if key != c.Code {
			out = append(out, canon+"|"+key)
		}
		if canon != system {
			out = append(out, canon+"|"+c.Code)
		}
	}
	return out
}

// conceptCodes flattens the codings of CodeableConcepts with form, reporting
// concepts that carry only text.
func conceptCodes(list []codeableConcept, at string,
	form func([]coding, string, *problems) []string, errs *problems) []string {
	out := []string{}
	for i, cc := range list {
		ccAt := index(at, i)
		if len(cc.Coding) == 0 {
			errs.add(ccAt, "has no coding; text alone cannot be matched")
			continue
		}
		out = append(out, form(cc.Coding, ccAt+".coding", errs)...)
	}
	return out
}

// checkPeriod checks a Period and returns its bounds in unix nanoseconds:
// start inclusive, end exclusive, 0 meaning unbounded; and whether each
// bound is a zoneless date (span.zoneless), which the policy form reads
// the safe way (Cond.settle).
func checkPeriod(p *period, at string, errs *problems) (start, end int64, startZoneless, endZoneless bool) {
	if p == nil {
		return 0, 0, false, false
	}
	from, okFrom := periodEdge(p.Start, at+".start", errs)
	to, okTo := periodEdge(p.End, at+".end", errs)
	if !okFrom || !okTo {
		return 0, 0, false, false
	}
	startZoneless, endZoneless = from.zoneless, to.zoneless
	if p.Start != "" && p.End != "" && !from.start.Before(to.end) {
		errs.add(at, "starts (%s) after it ends (%s)", p.Start, p.End)
	}
	start, okFrom = startNs(from.start)
	end, okTo = endNs(to.end)
	if !okFrom || !okTo {
		errs.add(at, "lies outside the years 1678 to 2261")
	}
	return start, end, startZoneless && start != 0, endZoneless && end != 0
}

// periodEdge parses one end of a Period; an absent one is unbounded.
func periodEdge(s, at string, errs *problems) (span, bool) {
	if s == "" {
		return span{}, true
	}
	sp, err := parseSpan(s)
	if err != nil {
		errs.add(at, "%q is %v", s, err)
		return span{}, false
	}
	return sp, true
}

// index returns "at[i]".
func index(at string, i int) string {
	return at + "[" + strconv.Itoa(i) + "]"
}
