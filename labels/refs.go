package labels

import (
	"bytes"
	"strings"

	"github.com/ds4p/ds4p/internal/fjson"
)

// refKind says what a reference means for labelling.
type refKind uint8

const (
	refNone refKind = iota
	// refContent: the resource is about its target (its reason, the
	// request it fulfils, the results it groups ...): it inherits every
	// sensitivity, confidentiality, policy and refrain label of the target.
	refContent
	// refContext: the resource was recorded in the context of its target
	// (an encounter, an episode): it inherits the target's Part 2 labels
	// only, since a record made during a Part 2 program's encounter is a
	// record of that program, while a blood pressure taken during an ED
	// visit for alcohol abuse is not itself SUD information.
	refContext
	// refSource: the reference names who or where recorded the resource;
	// it is matched against the Part 2 programs.
	refSource
)

// refMember is what a top-level member's references mean.
type refMember struct {
	kind refKind
	name string
	// elementOnly: the member's references propagate only to its own
	// element, and only where the member is segmentable (List.entry,
	// Composition.section).
	elementOnly bool
}

// refMembers classifies the top-level members whose references matter.
// Propagation always runs from the target to the resource that holds the
// reference, never the other way round: a Condition does not become
// sensitive because a sensitive MedicationRequest names it as its reason.
var refMembers = func() map[string]refMember {
	m := map[string]refMember{}
	for _, k := range []string{
		"reasonReference", "addresses", "basedOn", "evidence", "hasMember", "result",
		"focus", "target", "derivedFrom", "diagnosis", "partOf", "supportingInfo",
		"reason", "detail", "entity", "concern", "activity", "investigation",
		// Members QA found naming withheld resources from a resource that
		// was disclosed (2026-12-04): what a communication is about, a risk
		// assessment's basis, an impression's findings and problems, a
		// claim's procedures, a task's inputs and outputs, and what a
		// dispense, administration or response is the answer to.
		"about", "basis", "finding", "problem", "prognosisReference", "procedure",
		"procedureReference", "input", "output", "implicated", "authorizingPrescription",
		"request", "supportingInformation", "complicationDetail", "report",
		"subjectMedicalHistory", "suspectEntity",
		// More QA found naming withheld resources: the prescription an order replaces or
		// a claim is for, a charge's service, a claim's and a
		// questionnaire answer's items, what a communication answers or
		// carries, a measure's evaluated resources, a goal's outcomes, a
		// condition's stage assessments, the documents a document
		// replaces or appends to, a request group's actions, a manifest's
		// content, an episode's referrals and what a request replaces.
		"priorPrescription", "service", "prescription", "originalPrescription", "item",
		"inResponseTo", "payload", "evaluatedResource", "outcomeReference", "stage",
		"relatesTo", "action", "content", "referralRequest", "replaces",
		// The drug of a medication order, statement, administration or
		// dispense (R4 medicationReference, R5 medication as a
		// CodeableReference), a procedure's used items and a medication's
		// ingredients (QA round 18: a MedicationRequest for Medication/bup,
		// buprenorphine, was ordinary while the same Medication contained
		// labelled it SUD).
		"medicationReference", "medication", "usedReference", "ingredient",
		// A Binary's securityContext: the resource (a DocumentReference
		// whose attachment it is) that governs access to it (FHIR R4
		// Binary). Its patient is the target's too (Batch.Finish,
		// securityContexts).
		"securityContext",
		// The claim an ExplanationOfBenefit explains and the response it
		// carries (QA round 29): it inherits from them item by item
		// (propagate.go inheritClaim).
		"claim", "claimResponse",
		// What the resources of the rest of the Patient compartment are
		// about (QA round 30, FHIR R4 element definitions): an adverse
		// event's resulting condition and study, an encounter's or an
		// appointment response's appointment, a care plan's goals, an
		// impression's previous one, a composition's events, a request's
		// prior request, the specimens, imaging studies and media a
		// report, observation, request or sequence is on (and a
		// specimen's parent), a manifest's related resources, an
		// immunization's reactions, an evaluation's immunization,
		// a recommendation's supporting data, an invoice's line items
		// (chargeItemReference), the issues detected for an order or
		// dispense, a diet order's allergies, a risk assessment's
		// condition and parent, a claim's referral, and a charge's or a
		// supply's product (productReference, suppliedItem.itemReference,
		// itemReference, as medicationReference).
		"resultingCondition", "study", "appointment", "goal", "previous", "event",
		"priorRequest", "specimen", "imagingStudy", "media", "parent", "related",
		"reaction", "immunizationEvent", "recommendation", "lineItem", "detectedIssue",
		"allergyIntolerance", "condition", "referral", "productReference",
		"suppliedItem", "itemReference",
		// The coverage a claim, an explanation of benefit, an
		// eligibility request or response, or an order is billed to
		// (insurance, insurance[].coverage): a Coverage of a substance use
		// (SUBPRG), mental health (MENTPRG) or HIV-AIDS (HIVAIDS) program
		// pays only for that care, so what is billed to it tells of that
		// care whatever it bills (QA round 36, area A).
		"insurance",
		// The same coverage named by an account (Account.coverage[].coverage)
		// or an enrollment (EnrollmentRequest.coverage): a patient's
		// account with, or enrollment in, a substance use program's
		// coverage tells of that care as a claim billed to it does (QA
		// round 36, area F).
		"coverage",
		// The form a questionnaire response answers (STU3 wrote it as a
		// Reference; R4's canonical string is read in questionnaire).
		"questionnaire",
	} {
		m[k] = refMember{kind: refContent, name: k}
	}
	for _, k := range []string{"entry", "section"} {
		m[k] = refMember{refContent, k, true}
	}
	// An account (ChargeItem, Invoice, Encounter, EpisodeOfCare account):
	// a charge, an invoice or an encounter on a Part 2 program's account
	// (Account owner) is the program's record, as one made in its
	// encounter is (QA round 30).
	for _, k := range []string{"encounter", "context", "episodeOfCare", "account"} {
		m[k] = refMember{kind: refContext, name: k}
	}
	for _, k := range SourceKeys {
		m[k] = refMember{kind: refSource, name: k}
	}
	return m
}()

// contextRelated is what DocumentReference.context.related means: content.
var contextRelated = refMember{kind: refContent, name: "context.related"}

// link is one propagating reference of a resource: the reference string
// lies at b[start:end] (quotes excluded) of the resource, or, when it
// holds escapes, in decoded.
type link struct {
	kind        refKind
	member      string
	start, end  int32
	decoded     string
	elem        elemRef // the segmentable element holding the reference, if any
	elementOnly bool
	// canonical: an absolute canonical (questionnaire, a definition's
	// derivedFrom), which names a definition by its url, not where a
	// server keeps it: besides being read as a reference, it is found
	// by that url (and version) in the batch, else searched for
	// (Target.Canonical).
	canonical bool
	// enrolment: a Patient's reference to a directory entry (its
	// managingOrganization, generalPractitioner, an extension, meta ...),
	// resolved for what the entry stands for alone
	// (Result.DirectoryProgram): it passes no label on, but the member
	// says the person is the program's patient (proxy/enrolment.go).
	enrolment bool
	// directory: a source member's reference to a PractitionerRole,
	// Location, HealthcareService, Organization or Device, read for what it
	// stands for (Result.directory); a Patient's, a Practitioner's and
	// the like own such links pass nothing and are dropped (linksFor).
	directory bool
	// parent: a directory entry's reference to the entry it belongs to
	// (its partOf, providedBy, organization, managingOrganization or
	// location): the entry stands for what that one stands for, at any
	// depth (a department partOf a department of the program; QA round
	// 42, area F). It passes no label on (inherit).
	parent bool
	// ident: a reference naming a directory entry by identifier alone
	// (Reference.identifier, no reference string; QA round 43, helper
	// D): decoded is "system|value" (identKey), and its targets are the
	// entries of the batch carrying it (Result.idents), searched for in
	// each directory type (Target.Identifier). start and end are the
	// value's.
	ident bool
	// identDepth is the walk's depth of the Reference holding an ident
	// link's identifier (dropIdentLinks).
	identDepth int16
}

// canonicalOf returns the canonical a canonical link of resource b names:
// its url and the version after its '|' ("" for none). A #fragment names
// a resource the form contains (url|version#fragment): the form is the
// one named, so it is cut; searched as written (url=...#phq) the form was
// not found and its response took nothing from it (QA round 40, helper A).
func (k link) canonicalOf(b []byte) (url, version string) {
	ref := decodedBytes(b, field{start: int(k.start) - 1, end: int(k.end) + 1, seen: true})
	s, e := trimBounds(ref, 0, len(ref))
	c := ref[s:e]
	if i := bytes.IndexByte(c, '#'); i >= 0 {
		c = c[:i]
	}
	if i := bytes.IndexByte(c, '|'); i >= 0 {
		// Blanks around the '|' are no part of the url or version: "url
		// |2.0" was searched as url=...PHQ-9%20, which finds nothing, and
		// the PHQ-9 answers went to org-b (QA round 40, helper F).
		return string(bytes.TrimSpace(c[:i])), string(bytes.TrimSpace(c[i+1:]))
	}
	return string(bytes.TrimSpace(c)), ""
}

// nowhere reports whether the link propagates nowhere in a resource of
// type typ: an element-only link (List.entry, Composition.section) in a
// type where its member is not segmentable. Where the member is
// segmentable but was written as one object rather than an array, the
// link is in no element and propagates to the whole resource: such a List
// or Composition, dropped before, passed as ordinary while naming the SUD
// Condition (and a section's narrative with it).
func (k link) nowhere(typ string) bool {
	if !k.elementOnly || k.kind == refContent && k.elem.segmentableIn(typ) {
		return false
	}
	return k.elem.ok() || !memberSegmentable(typ, k.member)
}

// ref returns the link's reference in resource b as written (decoded).
func (k link) ref(b []byte) string {
	if k.decoded != "" {
		return k.decoded
	}
	return string(b[k.start:k.end])
}

// target returns "Type/id" of the link's reference in resource b and the
// length of Type, or nil.
func (k link) target(b []byte) ([]byte, int) {
	ref := []byte(k.decoded)
	if k.decoded == "" {
		ref = b[k.start:k.end]
	}
	return referenceKey(ref)
}

// version returns the version a link's reference names (Condition/1/_history/2:
// "2"), "" when it names none or one that is not a FHIR id.
func (k link) version(b []byte) string {
	ref := []byte(k.decoded)
	if k.decoded == "" {
		ref = b[k.start:k.end]
	}
	if !bytes.Contains(ref, historySegment) && bytes.IndexByte(ref, '%') < 0 {
		return "" // the usual reference, without a scan
	}
	// cleanReference cuts at /_history: what follows is read on the
	// reference it cleans, the part before the cut removed.
	full := referenceWithHistory(ref)
	i := bytes.LastIndex(full, historySegment)
	if i < 0 {
		return ""
	}
	v := full[i+len(historySegment):]
	if j := bytes.IndexByte(v, '/'); j >= 0 {
		v = v[:j]
	}
	if !validID(v) {
		return ""
	}
	return string(v)
}

var historySegment = []byte("/_history/")

// referenceWithHistory is ref with white space around it trimmed, cut at
// '#' or '?', and percent-escapes decoded, as cleanReference makes it but
// with its /_history tail kept.
func referenceWithHistory(ref []byte) []byte {
	s, e := trimBounds(ref, 0, len(ref))
	ref = ref[s:e]
	if i := bytes.IndexAny(ref, "#?"); i >= 0 {
		ref = ref[:i]
	}
	if bytes.IndexByte(ref, '%') < 0 {
		return ref
	}
	return bytes.TrimRight(percentDecoded(ref), "/")
}

// currentMember returns what the current top-level member's references
// mean. A reference inside an extension (at any depth) under a member that
// carries no meaning of its own is content: an extension is how a resource
// states what its base elements cannot (workflow-reasonReference,
// condition-dueTo, event-basedOn ...), and ds4p cannot know each one, so
// it passes the target's labels on rather than disclose SUD information
// through an extension (QA found them not propagating).
func (w *walker) currentMember() refMember {
	if w.depth == 0 || w.path[0].end < 0 {
		return refMember{}
	}
	m, ok := refMembers[string(w.b[w.path[0].start:w.path[0].end])]
	if !ok && w.escapedKey(w.path[0]) {
		m, ok = refMembers[w.decodedKey(w.path[0])]
	}
	if ok {
		if m.kind == refContext && m.name == "context" && w.depth > 1 && w.path[1].end >= 0 &&
			fjson.KeyIs(w.b[w.path[1].start:w.path[1].end], "related") {
			// DocumentReference.context.related: what the document is
			// about, not where it was written (QA round 18).
			return contextRelated
		}
		return m
	}
	for _, s := range w.path[:w.depth] {
		if s.end < 0 {
			continue
		}
		key := w.b[s.start:s.end]
		if fjson.KeyIs(key, "extension") || fjson.KeyIs(key, "modifierExtension") {
			return refMember{kind: refContent, name: "extension"}
		}
	}
	return refMember{}
}

// escapedKey reports whether the member name of segment s holds an escape:
// "reasonR\u0065ference" is reasonReference to every JSON client (QA round
// 22: such a member passed no labels on).
func (w *walker) escapedKey(s segment) bool {
	return s.end >= 0 && bytes.IndexByte(w.b[s.start:s.end], '\\') >= 0
}

// decodedKey returns the member name of segment s, escapes decoded ("" when
// it cannot be decoded).
func (w *walker) decodedKey(s segment) string {
	k, _ := fjson.StringValue(w.b, int(s.start)-1, int(s.end)+1)
	return k
}

// noteReference handles an object with a reference string, or with system
// and value strings (an Identifier), under a top-level member.
func (w *walker) noteReference(c *coding) {
	if !c.refStr && !w.rs.programs.empty() && w.depth <= 2 && w.topKey("identifier") {
		// The entry's own identifier (Organization/x with the program's
		// NPI): read for Result.directory, as a contained copy's is
		// (QA round 42, helper A).
		sys, val := decodedBytes(w.b, c.system), decodedBytes(w.b, c.value)
		if c.valNum {
			val = numericCode(w.b[c.value.start:c.value.end])
		}
		if w.ownProgram == "" {
			w.ownProgram = w.rs.programs.byIdentifier(sys, val)
		}
		if c.sysStr {
			// Found by a reference naming it by identifier alone
			// (link.ident; QA round 43, helper D).
			w.ownIdents = append(w.ownIdents, identKey(sys, val))
		}
	}
	if c.refStr {
		w.notePatientRef(c)
		if !w.rs.programs.empty() && (!w.typ.seen || string(w.decoded(w.typ)) == "Patient") &&
			(w.directoryTarget(c) || w.entryURL(c)) && w.rs.programs.byReference(decodedBytes(w.b, c.ref)) == "" {
			// A Patient naming a department, role, site or service of a
			// program (Organization/u1 partOf it, PractitionerRole/r1 of
			// it) tells the person is its patient as naming the program
			// does (QA round 41, area I): read as a source member's
			// directory link is, for the proxy's enrolment cut. The
			// program itself is known without a read.
			w.addLink(c, refMember{kind: refContext, name: "enrolment"})
			w.links[len(w.links)-1].enrolment = true
		}
	}
	if !c.refStr && c.sysStr && !w.rs.programs.empty() && (!w.typ.seen || string(w.decoded(w.typ)) == "Patient") &&
		w.referenceIdentifier() && w.rs.programs.byIdentifier(decodedBytes(w.b, c.system), w.identValue(c)) == "" {
		// A Patient naming a department, role, site or service of a
		// program by identifier alone (managingOrganization
		// {"identifier":{...}}): read as one naming it by reference is,
		// the entries carrying the identifier searched for (QA round 43,
		// helper D). The program's own identifier is known without one.
		if w.addIdentLink(c, refMember{kind: refContext, name: "enrolment"}) {
			w.links[len(w.links)-1].enrolment = true
		}
	}
	m := w.currentMember()
	if m.kind == refNone && c.refStr && w.depth <= 2 && !w.rs.programs.empty() && w.topKey("device") && w.refType(c, "Device") {
		// The device that took a measurement, gave a drug or is used
		// (Observation, Media, MedicationAdministration and
		// DeviceUseStatement device): one the program owns or keeps at
		// its site (a remote breathalyser it lends) makes the record its
		// own, as its performer would (QA round 43, helper H).
		w.addLink(c, refMember{kind: refContext, name: "device"})
		w.links[len(w.links)-1].directory = true
	}
	switch {
	case m.kind == refSource:
		w.sourceReference(c, m)
		if c.refStr && w.refType(c, "CareTeam") {
			// A care team as who performed, cared or received (CarePlan
			// and Claim careTeam, performer, recipient, participant
			// member): a Part 2 program's team makes the record the
			// program's, as a Part 2 encounter does (QA round 30).
			w.addLink(c, refMember{kind: refContext, name: m.name})
		} else if c.refStr && w.program == "" && !w.rs.programs.empty() && (w.directoryTarget(c) || w.entryURL(c)) {
			// A role, location, service or department who performed or
			// where: one that names the program (its organization,
			// managingOrganization, providedBy or partOf) stands for it,
			// read from the batch, the cache or the server as a Part 2
			// encounter is (Result.directory; QA round 40, area I).
			w.addLink(c, refMember{kind: refContext, name: m.name})
			w.links[len(w.links)-1].directory = true
		}
	case (m.kind == refContent || m.kind == refContext) && c.refStr:
		w.addLink(c, m)
	}
	if !c.refStr && c.sysStr && w.program == "" && !w.rs.programs.empty() && w.referenceIdentifier() &&
		(m.kind == refSource || w.underSourceKey()) {
		// A source member naming a role, site, service or department by
		// identifier alone ({"identifier":{...}}, no reference), not the
		// program's own: the entries carrying it are searched for and
		// stand for what they stand for, as one named by reference does
		// (QA round 43, helper D).
		if w.addIdentLink(c, refMember{kind: refContext, name: m.name}) {
			w.links[len(w.links)-1].directory = true
		}
	}
	if m.kind != refSource && c.refStr && w.program == "" && !w.rs.programs.empty() && w.topKey("partOf", "providedBy", "healthcareService") &&
		(w.directoryTarget(c) || w.entryURL(c)) {
		// A directory entry's parent or provider that does not name the
		// program itself may stand for it (a department partOf the
		// program's department; a role's healthcareService, QA round 42,
		// helper G): read for Result.directory alone
		// (link.parent; kept in directory types only, linksFor).
		w.addLink(c, refMember{kind: refContext, name: "partOf"})
		w.links[len(w.links)-1].parent = true
	}
	if m.kind != refSource && c.refStr && w.partOfProgram == "" && !w.rs.programs.empty() && w.topKey("partOf", "providedBy", "healthcareService") {
		// A directory entry's parent (Organization and Location partOf),
		// provider (HealthcareService providedBy) or service (a role's
		// healthcareService: a program known by its HealthcareService,
		// QA round 43, helper A): read for Result.directory only, the
		// entry being no record itself.
		program, match, path := w.program, w.programMatch, w.programPath
		w.program = ""
		w.sourceReference(c, m)
		w.partOfProgram = w.program
		w.program, w.programMatch, w.programPath = program, match, path
	}
	if m.kind != refSource && w.program == "" && !w.rs.programs.empty() && w.underSourceKey() {
		// Who or where, one level down (Specimen collection.collector,
		// MedicationRequest dispenseRequest.performer, CarePlan
		// activity.detail.performer): read only at the top, such a
		// member naming a Part 2 program left the record ordinary (QA
		// round 30).
		w.sourceReference(c, m)
		if c.refStr && w.program == "" && (w.directoryTarget(c) || w.entryURL(c)) {
			// The program's role, site, service or department there
			// stands for it as at the top (Result.directory; QA round
			// 40, area J: a Specimen collected by the program's role
			// stayed ordinary).
			w.addLink(c, refMember{kind: refContext, name: m.name})
			w.links[len(w.links)-1].directory = true
		}
	}
	if m.kind != refSource && w.program == "" && !w.rs.programs.empty() && w.inContained() {
		// A contained resource that names a Part 2 program anywhere (its
		// own identifier: a contained copy of the program's Organization
		// or Practitioner, as C-CDA conversions write the performer; or
		// its partOf, organization, serviceProvider ...) is referred to
		// from its container (FHIR dom-3): the container tells of
		// treatment by the program. The contained directory resource is
		// no record of the program itself, so the container was
		// labelled by neither (QA round 25).
		w.sourceReference(c, m)
		if c.refStr && w.program == "" && (w.directoryTarget(c) || w.entryURL(c)) {
			// A contained role, site or department naming the program's
			// department or site (a PractitionerRole at Organization/u1,
			// u1 partOf the program): it stands for the program as one
			// naming the program does, and so does its container (QA
			// round 42, helper G).
			w.addLink(c, refMember{kind: refContext, name: "contained"})
			w.links[len(w.links)-1].directory = true
		}
	}
}

// directoryTypeTargets are the directory entries that stand for the Part 2
// program they name (Result.directory). A Device the program owns, or
// one at its site (its owner, location or parent device), stands for it
// too: an intake kiosk's QuestionnaireResponse, a note its scanner
// authored (QA round 43, helper H). Unlike the others a Device is also a
// record (directoryTypes): one naming the program is its record as well.
var directoryTypeTargets = map[string]bool{
	"PractitionerRole": true, "Location": true, "HealthcareService": true, "Organization": true,
	"Device": true,
}

// directoryTarget reports whether the reference string of c names a
// PractitionerRole, Location, HealthcareService, Organization or Device.
func (w *walker) directoryTarget(c *coding) bool {
	key, n := referenceKey(decodedBytes(w.b, c.ref))
	return key != nil && directoryTypeTargets[string(key[:n])]
}

// entryURL reports whether the reference string of c names no Type/id
// (urn:uuid:..., urn:oid:...): only the fullUrl of an entry of its Bundle
// can answer to it, a directory entry of the program as well as any (a
// document's performer, QA round 41: such a role of the program left the
// record ordinary). A link to it resolves in the batch alone.
func (w *walker) entryURL(c *coding) bool {
	key, _ := referenceKey(decodedBytes(w.b, c.ref))
	return key == nil
}

// topKey reports whether the current top-level member is one of keys.
func (w *walker) topKey(keys ...string) bool {
	if w.depth == 0 || w.path[0].end < 0 {
		return false
	}
	k := w.b[w.path[0].start:w.path[0].end]
	for _, key := range keys {
		if fjson.KeyIs(k, key) {
			return true
		}
	}
	return false
}

// refType reports whether the reference string of c names a resource of
// type typ.
func (w *walker) refType(c *coding, typ string) bool {
	key, n := referenceKey(decodedBytes(w.b, c.ref))
	return key != nil && string(key[:n]) == typ
}

// underSourceKey reports whether a member below the top-level one on the
// current path is one of SourceKeys (sourceKeySet), or whether the path
// passes through an extension (at the top too). The top-level contained
// member is left to inContained.
//
// An extension naming a Part 2 program says who or where in a way ds4p
// cannot read (event-location, an EHR's own "ordering clinic"
// extension): as its references pass their labels on as content
// (currentMember), a program named in one makes the record the program's
// rather than disclose it as ordinary (QA round 30).
func (w *walker) underSourceKey() bool {
	if w.depth < 1 || w.inContained() {
		return false
	}
	for k, s := range w.path[:w.depth] {
		if s.end < 0 {
			continue
		}
		key := w.b[s.start:s.end]
		if fjson.KeyIs(key, "extension") || fjson.KeyIs(key, "modifierExtension") {
			return true
		}
		if k > 0 && (sourceKeySet[string(key)] || w.escapedKey(s) && sourceKeySet[w.decodedKey(s)]) {
			return true
		}
	}
	return false
}

// inContained reports whether the walk is inside the top-level contained
// member.
func (w *walker) inContained() bool {
	return w.depth >= 2 && w.path[0].end >= 0 && fjson.KeyIs(w.b[w.path[0].start:w.path[0].end], "contained")
}

// sourceReference matches a source reference or identifier against the
// Part 2 programs; the first match wins.
func (w *walker) sourceReference(c *coding, m refMember) {
	if w.program != "" || w.rs.programs.empty() {
		return
	}
	var p, matched string
	if c.refStr {
		ref := decodedBytes(w.b, c.ref)
		if p = w.rs.programs.byReference(ref); p != "" {
			matched = string(ref)
		}
	}
	if p == "" && c.sysStr && (c.valStr || c.valNum) {
		sys, val := decodedBytes(w.b, c.system), decodedBytes(w.b, c.value)
		if c.valNum { // an NPI written as a JSON number: its digits
			val = numericCode(w.b[c.value.start:c.value.end]) // 1.847002312e9 too
		}
		if p = w.rs.programs.byIdentifier(sys, val); p != "" {
			matched = string(sys) + "|" + string(val)
		}
	}
	if p != "" {
		w.program, w.programMatch, w.programPath = p, matched, w.pathString()
	}
}

// providerSchedule reports whether the resource's actor member is an
// array (Schedule.actor) each of whose elements refers to a practitioner,
// role, location, service, organization or device (scheduleDirectory):
// the calendar of a provider, which is directory data, not a patient's
// record, even when the provider is a Part 2 program's (as directoryTypes
// are). An actor that is a Patient, a RelatedPerson, a contained resource
// or an identifier alone, an array that cannot be read, or no actor at
// all makes the Schedule a patient's: a program named in it makes it the
// program's record (QA round 30). Read once the walk is done
// (availability), so that a program named elsewhere in a provider's
// Schedule (an extension, a contained resource, meta.source) does not
// make it the program's record either (QA round 31).
func (w *walker) providerSchedule() bool {
	root := fjson.SkipSpace(w.b, 0)
	i, _, ok, err := fjson.Lookup(w.b, root, "actor")
	if err != nil || !ok || w.b[i] != '[' {
		return false
	}
	directory, n := true, 0
	err = fjson.ArrayEach(w.b, i, func(vs, _ int) error {
		n++
		if w.b[vs] != '{' {
			directory = false
			return nil
		}
		rs, re, ok, err := fjson.Lookup(w.b, vs, "reference")
		if err != nil || !ok {
			directory = false
			return err
		}
		ref, isString := fjson.RawString(w.b, rs, re)
		if !isString {
			directory = false
			return nil
		}
		if bytes.IndexByte(ref, '\\') >= 0 {
			v, _ := fjson.StringValue(w.b, rs, re)
			ref = []byte(v)
		}
		key, n := referenceKey(ref)
		if key == nil || !scheduleDirectory[string(key[:n])] {
			directory = false
		}
		return nil
	})
	return err == nil && n > 0 && directory
}

// availability reports whether a resource of type typ that names no
// patient (result) is a provider's availability rather than a record:
// a provider's Schedule (providerSchedule) or a Slot, a Schedule's free
// or busy time, which has no member naming a patient (FHIR R4 Slot; the
// Appointment that books it names the patient and the slot). Neither is
// a Part 2 program's record, wherever the program is named in it (QA
// round 31): as a record of no patient the proxy withheld it from every
// caller.
//
// A reference by identifier alone below the top level (an EHR's
// "booked for" extension naming the patient's MRN, as a Reference's
// identifier or as a valueIdentifier), or a reference to anyone or
// anything but a provider (scheduleDirectory) or a Schedule, by reference
// or by type alone (a RelatedPerson, a Group, an Appointment or Encounter
// that names the patient, {"type":"Patient","display":...}), may name a
// patient the walk does not see as one: such a resource is not
// availability.
func (w *walker) availability(typ string) bool {
	if typ != "Slot" && (typ != "Schedule" || !w.providerSchedule()) {
		return false
	}
	root := fjson.SkipSpace(w.b, 0)
	found := false
	err := fjson.ObjectEach(w.b, root, func(k []byte, s, _ int) error {
		if !fjson.KeyIs(k, "identifier") && !found {
			found = namesSomeoneBelow(w.b, s, 0)
		}
		return nil
	})
	return err == nil && !found
}

// namesSomeoneBelow reports whether the value at b[i] holds, at any depth,
// an identifier (an identifier or valueIdentifier member) or a reference,
// or a reference's type, to something other than a provider
// (scheduleDirectory) or a Schedule (a depth past maxDepth, or a value
// that cannot be read, counts as one).
func namesSomeoneBelow(b []byte, i, depth int) bool {
	if depth > maxDepth {
		return true
	}
	found := false
	switch b[i] {
	case '{':
		err := fjson.ObjectEach(b, i, func(k []byte, s, e int) error {
			if found {
				return nil
			}
			switch {
			case fjson.KeyIs(k, "identifier") || fjson.KeyIs(k, "valueIdentifier"):
				found = true
			case fjson.KeyIs(k, "reference"):
				found = !availabilityTarget(b, s, e, true)
			case fjson.KeyIs(k, "type") && b[s] == '"':
				found = !availabilityTarget(b, s, e, false)
			default:
				found = namesSomeoneBelow(b, s, depth+1)
			}
			return nil
		})
		return found || err != nil
	case '[':
		err := fjson.ArrayEach(b, i, func(s, _ int) error {
			if !found {
				found = namesSomeoneBelow(b, s, depth+1)
			}
			return nil
		})
		return found || err != nil
	}
	return false
}

// availabilityTarget reports whether the string at b[s:e], a Reference's
// reference (ref) or its type, names a provider (scheduleDirectory) or a
// Schedule; a contained resource's "#id" counts as one (a contained
// resource keeps the program's labels on its own: result).
func availabilityTarget(b []byte, s, e int, ref bool) bool {
	v, ok := fjson.StringValue(b, s, e)
	if !ok {
		return false
	}
	typ := v
	if ref {
		if len(v) > 0 && v[0] == '#' {
			return true
		}
		key, n := referenceKey([]byte(v))
		if key == nil {
			return false
		}
		typ = string(key[:n])
	}
	return scheduleDirectory[typ] || typ == "Schedule"
}

// scheduleDirectory are the types whose Schedule is a provider's
// (providerSchedule).
var scheduleDirectory = map[string]bool{
	"Practitioner": true, "PractitionerRole": true, "Location": true, "HealthcareService": true,
	"Organization": true, "Device": true,
}

// referenceIdentifier reports whether the current object is a Reference's
// identifier (performer[0].identifier, managingOrganization.identifier),
// not a resource's own (a top-level identifier, or an element of its
// array).
func (w *walker) referenceIdentifier() bool {
	if w.depth < 2 || w.inContained() {
		return false
	}
	s := w.path[w.depth-1]
	return s.end >= 0 && fjson.KeyIs(w.b[s.start:s.end], "identifier")
}

// identKey is the key a directory entry's identifier is found by:
// "system|value", white space around each removed.
func identKey(sys, val []byte) string {
	return string(bytes.TrimSpace(sys)) + "|" + string(bytes.TrimSpace(val))
}

// addIdentLink records a link naming the directory entries that carry the
// Identifier c (link.ident): its decoded is their identKey. It reports
// whether it did: a system or a value alone names no one entry.
func (w *walker) addIdentLink(c *coding, m refMember) bool {
	key := identKey(decodedBytes(w.b, c.system), w.identValue(c))
	if strings.HasPrefix(key, "|") || strings.HasSuffix(key, "|") {
		return false
	}
	w.links = append(w.links, link{kind: m.kind, member: m.name, start: int32(c.value.start), end: int32(c.value.end),
		decoded: key, elem: w.currentElem(), ident: true, identDepth: int16(w.depth - 1)})
	return true
}

// identValue is the value of Identifier c: its digits when written as a
// JSON number (an NPI so kept by a lax server).
func (w *walker) identValue(c *coding) []byte {
	if c.valNum {
		return numericCode(w.b[c.value.start:c.value.end])
	}
	return decodedBytes(w.b, c.value)
}

// dropIdentLinks removes the identifier links (link.ident) made since
// w.links[from] for the Reference the walk leaves, which has a reference
// string: that names the entry, and its identifier need not be searched.
func (w *walker) dropIdentLinks(from int) {
	out := w.links[:from]
	for _, lk := range w.links[from:] {
		if !lk.ident || int(lk.identDepth) != w.depth {
			out = append(out, lk)
		}
	}
	w.links = out
}

// addLink records a propagating reference.
func (w *walker) addLink(c *coding, m refMember) {
	l := link{kind: m.kind, member: m.name, start: int32(c.ref.start + 1), end: int32(c.ref.end - 1), elem: w.currentElem(), elementOnly: m.elementOnly}
	if raw := w.b[l.start:l.end]; bytes.IndexByte(raw, '\\') >= 0 {
		s, _ := fjson.StringValue(w.b, c.ref.start, c.ref.end)
		l.decoded = s
	}
	w.links = append(w.links, l)
}

// loincForms are the canonical URLs under which LOINC publishes its panels
// as FHIR Questionnaires (http://loinc.org/q/44249-1, the PHQ-9), as the
// SDOH Clinical Care and SDC implementation guides name them.
var loincForms = [...][]byte{[]byte("http://loinc.org/q/"), []byte("https://loinc.org/q/")}

// questionnaire reads a QuestionnaireResponse's questionnaire, the
// canonical URL of the form it answers (a string at b[v:end]). Its items
// carry only linkIds and answers, so the form is what tells the response
// is a PHQ-9 or a DAST-10: a LOINC form's code matches the rules as a
// coding at "questionnaire" does, and any other canonical (its |version
// cut) is a content reference to the Questionnaire, whose codes pass on
// as a reason's do. Read as text, a patient's PHQ-9 answers went out
// ordinary while the blank PHQ-9 form and the score's Observation were
// MH (QA round 39, area E).
func (w *walker) questionnaire(v, end int) {
	ref := decodedBytes(w.b, field{start: v, end: end, seen: true})
	s, e := trimBounds(ref, 0, len(ref))
	c := ref[s:e]
	if i := bytes.IndexByte(c, '|'); i >= 0 {
		c = c[:i]
	}
	if len(c) == 0 {
		return
	}
	for _, p := range loincForms {
		if len(c) > len(p) && bytes.EqualFold(c[:len(p)], p) {
			// The code alone: a trailing slash, a query or a fragment
			// ("http://loinc.org/q/44249-1/") left the PHQ-9 answers
			// matching no code, ordinary.
			code := c[len(p):]
			if i := bytes.IndexAny(code, "?#"); i >= 0 {
				code = code[:i]
			}
			w.matchCode(bLOINC, bytes.TrimRight(code, "/"))
			return
		}
	}
	// An absolute canonical is also found by its url (link.canonical):
	// read only as a reference, the usual R4 response, naming its form
	// by the form's url (http://acme.example/forms/PHQ-9|2.0, kept as
	// Questionnaire/7), took nothing from it (QA round 39, helper K).
	l := link{kind: refContent, member: "questionnaire", start: int32(v + 1), end: int32(end - 1), elem: w.currentElem(),
		canonical: bytes.IndexByte(c, ':') >= 0}
	if !bytes.Equal(c, w.b[v+1:end-1]) {
		l.decoded = string(c)
	}
	w.links = append(w.links, l)
}
