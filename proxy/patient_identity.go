package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
	"github.com/ds4p/ds4p/policy"
	"github.com/ds4p/ds4p/proxy/authn"
	"github.com/ds4p/ds4p/siem"
	"github.com/gin-gonic/gin"
)

// Patient identity. A patient is known to the pipeline as "Patient/<id>" of
// the upstream: a Consent's patient, the patient of each resource in a
// response, and a token's patient claim. Where one of them names the patient
// by a logical identifier of the configured system
// (ConsentSources.PatientIdentifierSystem: an MRN, an MPI id) instead of a
// reference, the identifier is matched to exactly one of the upstream's
// Patient resources (Patient?identifier=system|value), the answer cached
// for the consent TTL in a bounded cache:
//
//   - response data whose subject, patient or beneficiary carries only such
//     an identifier is decided as that patient's; an identifier that matches
//     no single Patient, or of another system, is decided as an unknown
//     patient, which is always withheld (unresolvedPatient);
//   - a token whose patient claim is "system|value" is bound to that
//     patient's compartment; one that matches no single Patient, or names
//     another system, is refused (401);
//   - the upstream failing to answer withholds the response (502).
//
// A reference given as an absolute URL ending in Patient/<id> names <id>
// (labels.Result.Patient).

// unresolvedPatient stands for the patient of a resource that names one by
// an identifier no single upstream Patient has: no real id contains '?', so
// it shares no class, consent or compartment with any real patient.
const unresolvedPatient = "Patient/?"

// unresolvedRule names the denial of such resources in the ledger.
const unresolvedRule = "ds4p.patient_unresolved"

// patientEntry is one cached identifier lookup: the reference, or "" when
// no single Patient has the identifier.
type patientEntry struct{ ref string }

// patientIdentifierSystem is the configured identifier system, "" when
// patients are matched by reference only.
func (s *Server) patientIdentifierSystem() string {
	if sc, ok := s.consents.(*sourcedConsents); ok {
		return sc.cfg.PatientIdentifierSystem
	}
	return ""
}

// resolvePatient maps identifier ("system|value" of the configured system)
// to "Patient/<id>" through the cache and the upstream; errPatientUnmatched
// when no single Patient has it.
func (s *Server) resolvePatient(ctx context.Context, identifier string) (string, error) {
	sc, ok := s.consents.(*sourcedConsents)
	system, value, _ := strings.Cut(identifier, "|")
	if !ok || sc.patients == nil || system != sc.cfg.PatientIdentifierSystem || value == "" {
		return "", errPatientUnmatched
	}
	if e, ok := sc.patients.get(identifier); ok {
		return e.ref, unmatchedIfEmpty(e.ref)
	}
	// Kept only if no write through /fhir began or ended meanwhile, as the
	// other caches are: a lookup answered before a Patient write that moved
	// the identifier, cached after the write cleared the caches, kept the
	// old Patient for upstream_ttl (QA round 34, area E).
	epoch := sc.written.epoch.Load()
	unwritten := func() bool { return sc.written.underWay.Load() == 0 && sc.written.epoch.Load() == epoch }
	ref, err := s.identifiedPatient(ctx, system, value)
	switch {
	case errors.Is(err, errPatientUnmatched):
		sc.patients.addIf(identifier, patientEntry{}, unwritten)
	case err == nil:
		sc.patients.addIf(identifier, patientEntry{ref: ref}, unwritten)
	}
	return ref, err
}

// identifiedPatient finds the one upstream Patient with identifier
// system|value and returns "Patient/<id>"; errPatientUnmatched when the
// upstream's answer does not show exactly one. What the search answers is
// not taken on trust (QA round 19): the value is escaped as FHIR search
// requires (an unescaped ',' searched for either of two identifiers, '|'
// split the value); the match must carry the identifier itself, exactly
// (a server that ignores the system, or the parameter, matches others), have
// a FHIR id (an id-less match left the token bound to no patient); a
// record that says another replaced it (Patient.link replaced-by: merged
// away, still carrying the identifier) is no match, so a merge leaves the
// surviving record, and no link is followed; and a page that says more
// matches exist (a next link, a total above its matches) is not one match.
// Include'd resources and OperationOutcome entries are not matches.
func (s *Server) identifiedPatient(ctx context.Context, system, value string) (string, error) {
	q := url.Values{"identifier": {searchEscape(system) + "|" + searchEscape(value)}, "_count": {"2"}}
	body, err := s.getJSON(ctx, "/Patient?"+q.Encode(), 1<<20)
	if err != nil {
		return "", err
	}
	type identifier struct {
		System string `json:"system"`
		Value  string `json:"value"`
	}
	var b struct {
		ResourceType string `json:"resourceType"`
		Total        *int   `json:"total"`
		Link         []struct {
			Relation string `json:"relation"`
		} `json:"link"`
		Entry []struct {
			Resource struct {
				ResourceType string        `json:"resourceType"`
				ID           string        `json:"id"`
				Identifier   []identifier  `json:"identifier"`
				Link         []patientLink `json:"link"`
			} `json:"resource"`
			Search *struct {
				Mode string `json:"mode"`
			} `json:"search"`
		} `json:"entry"`
	}
	if json.Unmarshal(body, &b) != nil || b.ResourceType != "Bundle" {
		return "", errors.New("the FHIR server's Patient search did not answer a Bundle")
	}
	for _, l := range b.Link {
		if hasRelation(l.Relation, "next") {
			return "", errPatientUnmatched
		}
	}
	matches, ref := 0, ""
	for _, e := range b.Entry {
		if e.Resource.ResourceType != "Patient" || e.Search != nil && e.Search.Mode != "" && e.Search.Mode != "match" {
			continue
		}
		matches++
		if !slices.Contains(e.Resource.Identifier, identifier{system, value}) ||
			slices.Contains(e.Resource.Link, patientLink{"replaced-by"}) {
			continue // not this identifier's, or a record no longer in use
		}
		if ref != "" || !fhirID.MatchString(e.Resource.ID) {
			return "", errPatientUnmatched
		}
		ref = "Patient/" + e.Resource.ID
	}
	if ref == "" || b.Total != nil && *b.Total > matches {
		return "", errPatientUnmatched
	}
	return ref, nil
}

// patientLink is the part of a Patient.link identifiedPatient reads.
type patientLink struct {
	Type string `json:"type"`
}

// fhirID is a FHIR id.
var fhirID = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// searchEscape escapes s for a token search parameter (FHIR search
// 3.2.1.5.7): '\', ',', '|' and '$' are preceded by '\'.
func searchEscape(s string) string {
	return searchEscaper.Replace(s)
}

var searchEscaper = strings.NewReplacer(`\`, `\\`, `,`, `\,`, `|`, `\|`, `$`, `\$`)

func unmatchedIfEmpty(ref string) error {
	if ref == "" {
		return errPatientUnmatched
	}
	return nil
}

// resolvePatients gives each item (and contained resource) that names its
// patient only by an identifier of the configured system that patient, or
// unresolvedPatient. An identifier of another system (an SSN, the
// configured system spelled otherwise), or any identifier when no system
// is configured, names a patient the proxy cannot tell: unresolvedPatient
// too, never no patient, which would be read as data about no one (QA
// round 19: another patient's Observation named by such an identifier was
// inside any patient token's compartment and decided under no consents).
func (r *run) resolvePatients(ctx context.Context) error {
	system := r.s.patientIdentifierSystem()
	bound := r.ex != nil && r.ex.caller.Patient != ""
	seen := map[string]string{}
	resolve := func(it *item, top bool) error {
		ident := it.res.PatientIdentifier
		if ident == "" {
			// A caller bound to a compartment reads nothing whose
			// subject may be a patient it cannot tell (compartment.go
			// untoldSubject) as about no patient; a contained resource
			// naming none takes its container's (settleContained).
			if top && bound && it.res.Patient == "" && untoldSubject(r.body[it.start:it.end]) {
				it.res.AddPatient(unresolvedPatient)
			}
			return nil
		}
		if system == "" || !strings.HasPrefix(ident, system+"|") {
			it.res.AddPatient(unresolvedPatient)
			return nil
		}
		ref, ok := seen[ident]
		if !ok {
			var err error
			ref, err = r.s.resolvePatient(ctx, ident)
			switch {
			case errors.Is(err, errPatientUnmatched):
				ref = unresolvedPatient
			case err != nil:
				return fail(http.StatusBadGateway, "transient", "the FHIR server could not say whose data the response holds; the response was withheld", err)
			}
			seen[ident] = ref
		}
		// Beside a Patient another compartment path names (an
		// Observation's performer), the identified one is one more.
		it.res.AddPatient(ref)
		if ref != unresolvedPatient {
			it.res.SubjectPatient = ref // the identifier is the subject's, patient's or beneficiary's
		}
		return nil
	}
	for _, it := range r.items {
		if err := resolve(it, true); err != nil {
			return err
		}
		for _, c := range it.contained {
			if err := resolve(c, false); err != nil {
				return err
			}
		}
	}
	if bound {
		r.aboutPatients()
		r.indirectPatients()
	}
	return nil
}

// aboutMembers are, per resource type that records something about other
// resources, the member (and the member of its elements, "" for the
// element itself) whose references name what it is about: a Provenance's
// target, an AuditEvent's entity.what.
var aboutMembers = map[string][2]string{
	"Provenance": {"target", ""},
	"AuditEvent": {"entity", "what"},
}

// aboutPatients gives each Provenance and AuditEvent of the response, for
// a caller bound to a patient's compartment, the patients of the resources
// it is about: a Patient it names is that patient, another resource the
// response holds (relative Type/id or below the upstream's base) gives
// its patients, and a reference to anything else (a resource the
// response does not hold, another server's, one not read as Type/id, or
// one only an identifier names) gives unresolvedPatient, which withholds
// it. A Provenance of another patient's Observation names no Patient
// itself: it was read as data about no one and disclosed to any patient's
// token (a read by id, a search by date), telling that the Observation
// exists, who recorded it, when and why (QA round 26, area B). A
// patient's own Provenance stays readable beside its targets (US Core's
// Observation?patient=X&_revinclude=Provenance:target); read alone, it is
// withheld, as the proxy cannot tell whose target it is.
func (r *run) aboutPatients() {
	var byRef itemsByRef // the response's items by Type/id, made once when needed
	for _, it := range r.items {
		m, ok := aboutMembers[it.res.Type]
		if !ok {
			continue
		}
		refs, ok := aboutRefs(r.body[it.start:it.end], m[0], m[1])
		if !ok {
			it.res.AddPatient(unresolvedPatient)
			continue
		}
		if byRef == nil && len(refs) > 0 {
			// One pass, not one per reference: a patient app's search with
			// _revinclude=Provenance:target holds a Provenance per result.
			byRef = r.itemsByRef()
		}
		for _, ref := range refs {
			r.addAboutPatients(it, ref, byRef)
		}
	}
}

// itemsByRef are the response's items by Type/id (itemsByRef): a copy
// inside a stored Bundle (item.copyIn) under its Bundle only.
type itemsByRef map[itemRef][]*item

// itemRef keys itemsByRef: the Bundle a copy is in (0: the server's), and
// its "Type/id".
type itemRef struct {
	in  int
	ref string
}

// itemsByRef indexes the response's items by Type/id for aboutPatients and
// indirectPatients.
func (r *run) itemsByRef() itemsByRef {
	by := make(itemsByRef, len(r.items))
	for _, t := range r.items {
		if t.res.ID != "" {
			k := itemRef{t.copyIn, t.res.Type + "/" + t.res.ID}
			by[k] = append(by[k], t)
		}
	}
	return by
}

// find returns the items that key, a reference of it by "Type/id", names:
// the copies of it's own stored Bundle, else the server's resources the
// response holds. A copy in a document or collection (made up, or an
// older version, perhaps naming another patient) is not the server's
// resource of its Type/id: taken for it, a copy of patient p2's
// Observation/o2 naming p1 gave p1 to the Provenance of the real one,
// disclosed to p1's token with who recorded it and why (QA round 35,
// area E; labels.Result.CopyIn).
func (by itemsByRef) find(it *item, key string) []*item {
	if it.copyIn != 0 {
		if ts := by[itemRef{it.copyIn, key}]; len(ts) > 0 {
			return ts
		}
	}
	return by[itemRef{0, key}]
}

// refTarget reads ref as Type/id for addAboutPatients and
// addIndirectPatients: a reference that is no Type/id gives it
// unresolvedPatient, and a Patient gives it that patient, at once (done).
func (r *run) refTarget(it *item, ref string) (typ, id string, done bool) {
	typ, id, ok := r.s.exactResourceRef(ref)
	switch {
	case !ok:
		it.res.AddPatient(unresolvedPatient)
		return "", "", true
	case typ == "Patient":
		it.res.AddPatient("Patient/" + id)
		return "", "", true
	}
	return typ, id, false
}

// addAboutPatients adds to it the patients of the resource ref names
// (aboutPatients), found among the response's items by Type/id.
func (r *run) addAboutPatients(it *item, ref string, byRef itemsByRef) {
	typ, id, done := r.refTarget(it, ref)
	if done {
		return
	}
	if _, about := aboutMembers[typ]; about {
		// a Provenance of a Provenance: whose, this one pass cannot tell
		it.res.AddPatient(unresolvedPatient)
		return
	}
	targets := byRef.find(it, typ+"/"+id)
	for _, t := range targets {
		it.res.AddPatient(t.res.Patient)
		for _, p := range t.res.Patients {
			it.res.AddPatient(p)
		}
	}
	if len(targets) == 0 {
		it.res.AddPatient(unresolvedPatient)
	}
}

// aboutRefs reads the references of b's member (each element's sub
// member when sub is not ""): ok is false when one cannot be read (a
// member that is not an array of objects, a Reference without a
// reference string). An element without sub names nothing (an AuditEvent
// entity that is a query).
func aboutRefs(b []byte, member, sub string) (refs []string, ok bool) {
	as, _, present, err := fjson.Lookup(b, 0, member)
	if err != nil {
		return nil, false
	}
	if !present {
		return nil, true
	}
	if b[as] != '[' {
		return nil, false
	}
	bad := false
	err = fjson.ArrayEach(b, as, func(vs, _ int) error {
		if b[vs] != '{' {
			bad = true
			return nil
		}
		if sub != "" {
			ss, _, ok, err := fjson.Lookup(b, vs, sub)
			if err != nil || ok && b[ss] != '{' {
				bad = true
				return nil
			}
			if !ok {
				return nil
			}
			vs = ss
		}
		rs, re, ok, err := fjson.Lookup(b, vs, "reference")
		if err != nil || !ok {
			bad = true
			return nil
		}
		ref, ok := fjson.StringValue(b, rs, re)
		if !ok {
			bad = true
			return nil
		}
		refs = append(refs, ref)
		return nil
	})
	return refs, err == nil && !bad
}

// indirectPatients gives each item of the response that names no patient
// (no Patient on any path, no identifier, no conflict), for a caller bound
// to a patient's compartment, the patients of the resources it refers to
// that may be a patient's record (indirectType): a List of Conditions with
// no subject, a Linkage, a Communication about, a subject-less
// MeasureReport's evaluatedResource, a Task's focus without for, a
// DocumentManifest's content, a Composition's section entries, a Basic
// whose subject is a Condition, a Flag, a DetectedIssue's implicated, a
// ClinicalImpression's problem, a RiskAssessment's basis, a Group's
// characteristic, an Observation's focus, an encounter, in any member or
// extension. Such a resource was read as data about no one and disclosed
// to any patient's token, with the reference and display of another
// patient's record (QA round 27, area A). A target the response holds
// gives its patients (aboutPatients' index, in rounds, so that a List of
// Lists takes its entries' patients); one it does not hold, another
// server's, one not read as Type/id (a urn:uuid, a bare id), or a
// logical reference (type and identifier only) gives unresolvedPatient,
// which withholds the item. References to directory and definitional
// resources (a Practitioner, an Organization, a Medication, a
// Questionnaire ...) and to contained resources ("#id") name no patient.
func (r *run) indirectPatients() {
	type pending struct {
		it   *item
		refs []string
	}
	var todo []pending
	for _, it := range r.items {
		res := it.res
		if res.Patient != "" || len(res.Patients) > 0 || res.PatientConflict || res.PatientIdentifier != "" || res.Type == "Patient" {
			continue
		}
		if _, about := aboutMembers[res.Type]; about {
			continue // aboutPatients
		}
		refs, ok := indirectRefs(r.body[it.start:it.end])
		if !ok {
			it.res.AddPatient(unresolvedPatient)
			continue
		}
		if len(refs) > 0 {
			todo = append(todo, pending{it, refs})
		}
	}
	if len(todo) == 0 {
		return
	}
	byRef := r.itemsByRef()
	// Rounds: a target that is itself such an item may gain patients from
	// its own targets; at most as many rounds as there are such items.
	for range len(todo) + 1 {
		changed := false
		for _, p := range todo {
			before := patientCount(p.it.res)
			for _, ref := range p.refs {
				r.addIndirectPatients(p.it, ref, byRef)
			}
			changed = changed || patientCount(p.it.res) != before
		}
		if !changed {
			return
		}
	}
}

// patientCount is how many patients res names.
func patientCount(res *labels.Result) int {
	if len(res.Patients) > 0 {
		return len(res.Patients)
	}
	if res.Patient != "" {
		return 1
	}
	return 0
}

// addIndirectPatients adds to it the patients of the resource ref names
// when that may be a patient's record (indirectPatients); "" stands for a
// logical reference, which names such a resource the proxy cannot find.
func (r *run) addIndirectPatients(it *item, ref string, byRef itemsByRef) {
	if ref == "" {
		it.res.AddPatient(unresolvedPatient)
		return
	}
	if typ := referenceType(ref); typ != "" && !indirectType(typ) {
		return // a Practitioner, here or on another server
	}
	typ, id, done := r.refTarget(it, ref)
	if done {
		return
	}
	targets := byRef.find(it, typ+"/"+id)
	for _, t := range targets {
		if t.res.PatientConflict {
			it.res.AddPatient(unresolvedPatient)
		}
		it.res.AddPatient(t.res.Patient)
		for _, p := range t.res.Patients {
			it.res.AddPatient(p)
		}
	}
	if len(targets) == 0 {
		it.res.AddPatient(unresolvedPatient)
	}
}

// noPatientTypes are the resource types that hold no patient's record:
// directories (who and where), products, definitions, terminology and
// conformance resources. A Schedule is one too here: a patient booking
// through an app reads Slots, whose schedule is a practitioner's. A Group
// and a Device are, as a subject is taken to name no patient when it is
// one of them (untoldSubject, QA round 19); a Group of patients read
// itself names its members.
var noPatientTypes = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range strings.Fields(`Practitioner PractitionerRole Organization OrganizationAffiliation
		Location HealthcareService Endpoint Medication MedicationKnowledge Substance
		SubstanceSpecification SubstancePolymer SubstanceProtein SubstanceReferenceInformation
		SubstanceSourceMaterial SubstanceNucleicAcid Device DeviceDefinition Group Schedule Slot InsurancePlan
		Questionnaire ValueSet CodeSystem ConceptMap NamingSystem TerminologyCapabilities
		StructureDefinition StructureMap CapabilityStatement OperationDefinition SearchParameter
		CompartmentDefinition ImplementationGuide GraphDefinition MessageDefinition ExampleScenario
		Library Measure PlanDefinition ActivityDefinition ObservationDefinition SpecimenDefinition
		ChargeItemDefinition EventDefinition ResearchDefinition ResearchElementDefinition
		Evidence EvidenceVariable EffectEvidenceSynthesis RiskEvidenceSynthesis ResearchStudy
		TestScript TestReport CatalogEntry Subscription OperationOutcome
		MedicinalProduct MedicinalProductAuthorization MedicinalProductContraindication
		MedicinalProductIndication MedicinalProductIngredient MedicinalProductInteraction
		MedicinalProductManufactured MedicinalProductPackaged MedicinalProductPharmaceutical
		MedicinalProductUndesirableEffect`) {
		m[t] = true
	}
	return m
}()

// typedNoPatient reports whether the Reference object at b[obj] has a
// type naming one of noPatientTypes (a urn:uuid typed Device).
func typedNoPatient(b []byte, obj int) bool {
	ts, te, ok, _ := fjson.Lookup(b, obj, "type")
	if !ok {
		return false
	}
	typ, isStr := fjson.StringValue(b, ts, te)
	return isStr && fhirTypeName(typ) && !indirectType(typ)
}

// indirectType reports whether a resource of type typ may be a patient's
// record: every type but noPatientTypes (an unknown one too: fail closed).
func indirectType(typ string) bool { return !noPatientTypes[typ] }

// indirectRefs reads every Reference of the resource b (any member, any
// depth, contained resources and extensions included): its reference
// string, or "" for a logical reference (a type and an identifier, no
// reference) to a type that may be a patient's record. References to
// contained resources ("#id") are left out. ok is false when a
// Reference's reference is not a string.
func indirectRefs(b []byte) (refs []string, ok bool) {
	bad := false
	var walk func(vs, depth int)
	walk = func(vs, depth int) {
		if bad || depth > 256 {
			bad = true
			return
		}
		switch b[vs] {
		case '[':
			_ = fjson.ArrayEach(b, vs, func(s, _ int) error { walk(s, depth+1); return nil })
		case '{':
			rs, re, hasRef, err := fjson.Lookup(b, vs, "reference")
			switch {
			case err != nil:
				bad = true
				return
			case hasRef:
				ref, isStr := fjson.StringValue(b, rs, re)
				if !isStr {
					bad = true
					return
				}
				if ref = strings.TrimSpace(ref); !strings.HasPrefix(ref, "#") && !typedNoPatient(b, vs) {
					refs = append(refs, ref)
				}
			default:
				if _, _, hasIdent, _ := fjson.Lookup(b, vs, "identifier"); hasIdent {
					if ts, te, hasType, _ := fjson.Lookup(b, vs, "type"); hasType {
						if typ, isStr := fjson.StringValue(b, ts, te); isStr && fhirTypeName(typ) && indirectType(typ) {
							refs = append(refs, "")
						}
					}
				}
			}
			_ = fjson.ObjectEach(b, vs, func(_ []byte, s, _ int) error { walk(s, depth+1); return nil })
		}
	}
	walk(0, 0)
	return refs, !bad
}

// unresolvedDenial is the decision of a class of unresolvedPatient.
func unresolvedDenial() policy.Decision {
	return policy.Decision{
		Effect:  policy.Deny,
		Reasons: []policy.Reason{{Rule: unresolvedRule, Message: "names its patient by an identifier no single patient has, or, to a token bound to a patient, in a way whose patient the proxy cannot tell"}},
	}
}

// ledgerPatient is the patient a ledger entry names: none for
// unresolvedPatient and conflictPatient.
func ledgerPatient(p string) string {
	if placeholderPatient(p) {
		return ""
	}
	return p
}

// bindPatientIdentifier resolves a token's patient claim given as an
// identifier to the one upstream Patient that has it and binds the caller
// to that compartment. An identifier of another system than the configured
// one, or that no single Patient has, refuses the token (401); an upstream
// that cannot answer is 502. It reports whether the request goes on.
func (s *Server) bindPatientIdentifier(c *gin.Context, caller *authn.Caller) bool {
	ref, err := s.resolvePatient(c.Request.Context(), caller.PatientIdentifier)
	switch {
	case errors.Is(err, errPatientUnmatched):
		// Say which: an identifier this server does not resolve at all
		// is the app's or the operator's to fix, not a missing patient.
		reason, msg := "the patient claim matches no single patient of the configured identifier system",
			"the bearer token's patient matches no single patient"
		if system := s.patientIdentifierSystem(); system == "" {
			reason = "the patient claim is an identifier, and no patient identifier system is configured"
			msg = "the bearer token's patient is an identifier (system|value); this server takes a Patient id (consents.patient_identifier_system is not set)"
		} else if !strings.HasPrefix(caller.PatientIdentifier, system+"|") {
			reason = "the patient claim is an identifier of another system than the configured one"
			msg = "the bearer token's patient is an identifier of another system than " + system + ", the one this server resolves"
		}
		s.log.Warn("token refused", "request_id", c.GetString(requestIDKey), "reason", reason)
		// As every other refused token is (edge.go), without the subject
		// (a patient's) or the identifier.
		s.securityEvent(c, siem.Event{Kind: siem.KindTokenRefused, Severity: siem.SeverityWarning,
			Org: caller.Org, Client: caller.Client, Reason: reason})
		unauthorized(c, msg)
		return false
	case err != nil:
		s.log.Warn("token patient lookup failed", "request_id", c.GetString(requestIDKey), "error", errString(err))
		writeOutcome(c.Writer, http.StatusBadGateway, "transient", "the FHIR server could not find the bearer token's patient")
		c.Abort()
		return false
	}
	caller.Patient = strings.TrimPrefix(ref, "Patient/")
	return true
}

// directory is the configured actor directory (consents.directory), nil
// when there is none.
func (s *Server) directory() *consent.Directory {
	if sc, ok := s.consents.(*sourcedConsents); ok {
		return sc.cfg.Directory
	}
	return nil
}
