package labels

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Program is a 42 CFR Part 2 program: a federally assisted substance use
// disorder treatment program whose records need the patient's consent
// before they are disclosed. A resource is a record of the program when one
// of its source references (see SourceKeys) names one of References
// ("Organization/x", "Location/y", "HealthcareService/z", "Practitioner/p";
// absolute and versioned references match too) or carries one of
// Identifiers ("system|value", a logical reference; the NPI also by its
// OID, values trimmed), or when its meta.source is one of Sources (or
// starts with it followed by '#', '/' or '?'; scheme and host in any case,
// default ports and a trailing slash ignored).
type Program struct {
	Name        string
	References  []string
	Identifiers []string
	Sources     []string
}

// SourceKeys are the top-level members whose references say where a
// resource was recorded or who holds it (who performed, recorded,
// requested, authored, asserted, billed, paid, owns, sent or received it,
// or where). A reference to a Part 2 program anywhere under one of them
// makes the resource a Part 2 record: even the fact of treatment by the
// program is protected (42 CFR 2.13(c)).
var SourceKeys = []string{
	"serviceProvider", "performer", "recorder", "requester", "author", "asserter",
	"participant", "location", "provider", "custodian", "sender", "informationSource",
	"enterer", "organization", "managingOrganization", "attester", "collector",
	"managingEntity", // a Group the program manages: its members are its patients
	// Claims and their answers (facility, payee.party, careTeam[].provider,
	// insurer), invoices, accounts and tasks (issuer, owner), consents
	// (provision.actor[].reference, at any depth), provenance and audit
	// (agent[].who and onBehalfOf, source.observer), communications
	// (recipient), dispenses (destination) and coverage (payor,
	// policyHolder).
	"facility", "payee", "careTeam", "insurer", "issuer", "owner", "provision",
	"agent", "source", "recipient", "destination", "payor", "policyHolder",
	// Who assigned an identifier of the record (Identifier.assigner: a
	// RelatedPerson the program registered, a result numbered by the
	// program's lab, a subject named by the program's MRN): the program's
	// record (QA round 31, area C). A Patient's is cut as its enrolment
	// (proxy/enrolment.go); a directory entry's stays directory data.
	"assigner",
	// The members of the same role QA round 30 found in the other types
	// of the Patient compartment (FHIR R4 element definitions): whose
	// schedule or answer it is (Schedule and AppointmentResponse actor),
	// who contributed, performed, requested or ordered (AdverseEvent and
	// CarePlan contributor, ChargeItem performingOrganization,
	// requestingOrganization and costCenter, ClaimResponse and
	// CoverageEligibilityResponse requestor, EnrollmentResponse
	// requestProvider, NutritionOrder orderer, VisionPrescription
	// prescriber, SupplyDelivery and SupplyRequest supplier and
	// deliverFrom, MedicationDispense substitution.responsibleParty and
	// receiver), who interpreted, authenticated, assessed, reported or
	// operated (DiagnosticReport resultsInterpreter, DocumentReference
	// authenticator, ImagingStudy referrer and interpreter,
	// ClinicalImpression assessor, MeasureReport reporter, Media
	// operator, Goal expressedBy, EpisodeOfCare careManager), and where
	// (ServiceRequest locationReference, Encounter hospitalization.origin).
	"actor", "contributor", "performingOrganization", "requestingOrganization",
	"costCenter", "requestor", "requestProvider", "orderer", "prescriber", "supplier",
	"deliverFrom", "responsibleParty", "receiver", "resultsInterpreter", "authenticator",
	"referrer", "interpreter", "assessor", "reporter", "operator", "expressedBy",
	"careManager", "locationReference", "origin",
	// The author of a note (Annotation.authorReference, under any
	// member's note): part of the record written by the program's
	// clinician.
	"authorReference",
	// An episode's care team (EpisodeOfCare.team), who cares as CarePlan
	// careTeam does: a Part 2 program's team passes its Part 2 labels on
	// (noteReference).
	"team",
	// Who reported the record, granted, received or controls it, or is
	// asked to perform it (QA round 40, area E): MedicationRequest
	// reportedReference (R4; R5 Procedure and NutritionIntake too: "the
	// source of the report"), an R5 Consent's grantor, grantee, manager
	// and controller (R4's organization, performer and provision actors),
	// an R5 Task's requestedPerformer, an R5 CommunicationRequest's
	// informationProvider and a Contract's signer.
	"reportedReference", "grantor", "grantee", "manager", "controller",
	"requestedPerformer", "informationProvider", "signer",
}

// sourceKeySet holds SourceKeys: a member of one of these names at any
// depth says who or where, as at the top (Specimen collection.collector,
// MedicationRequest dispenseRequest.performer, ImagingStudy
// series.performer, CarePlan activity.detail.performer, RequestGroup
// action.participant, Encounter hospitalization.origin, Composition
// section.author).
var sourceKeySet = func() map[string]bool {
	m := make(map[string]bool, len(SourceKeys))
	for _, k := range SourceKeys {
		m[k] = true
	}
	return m
}()

// directoryTypes are not records of a program even when they name it:
// directory entries about the program itself and the Patient (whose
// enrolment must not be inferred from a resource being withheld).
var directoryTypes = map[string]bool{
	"Organization": true, "Location": true, "Practitioner": true, "PractitionerRole": true,
	"HealthcareService": true, "Endpoint": true, "Patient": true, "OrganizationAffiliation": true,
}

// programIndex matches references, identifiers and sources to programs.
type programIndex struct {
	refs   map[string]string // "Type/id" → program name
	idents map[string]string // "system|value" → program name
	// npis are the values of the programs' NPIs (their identifiers of the
	// NPI's system): an NPI is matched without its system too
	// (byNPIValue).
	npis map[string]string
	// names are the programs' names as configured, compared as
	// nameKey spells them (byName), and the bounds of their lengths.
	names            map[string]string
	nameMin, nameMax int
	sources          []sourcePrefix
	// words name the programs in prose (ProgramWords).
	words []string
}

type sourcePrefix struct{ uri, name string }

// indexPrograms validates ps and indexes them; it reports every problem.
func indexPrograms(ps []Program) (programIndex, error) {
	ix := programIndex{refs: map[string]string{}, idents: map[string]string{}}
	var errs []error
	for k, p := range ps {
		name := p.Name
		if name == "" {
			name = fmt.Sprintf("part2-program-%d", k)
		}
		if k := nameKey(nil, []byte(p.Name)); len(k) >= minProgramName {
			if ix.names == nil {
				ix.names = map[string]string{}
				ix.nameMin = len(k)
			}
			ix.names[string(k)] = name
			ix.nameMin, ix.nameMax = min(ix.nameMin, len(k)), max(ix.nameMax, len(k))
		}
		if len(p.References)+len(p.Identifiers)+len(p.Sources) == 0 {
			errs = append(errs, fmt.Errorf("labels: program %q: no references, identifiers or sources", name))
		}
		for _, r := range p.References {
			// Exactly Type/id as data references read (referenceKey): a
			// spelling that loads but never matches (" Organization/p2",
			// "organization/p2") would leave the program's records
			// unlabelled (QA round 18).
			typ, id, ok := strings.Cut(r, "/")
			if key, _ := referenceKey([]byte(r)); !ok || !validType([]byte(typ)) || !validID([]byte(id)) || string(key) != r {
				errs = append(errs, fmt.Errorf("labels: program %q: reference %q is not Type/id (a FHIR type, upper case first, and an id)", name, r))
				continue
			}
			ix.refs[r] = name
		}
		for _, i := range p.Identifiers {
			sys, v, ok := strings.Cut(i, "|")
			if !ok || sys == "" || v == "" || strings.TrimSpace(sys) != sys || strings.TrimSpace(v) != v {
				errs = append(errs, fmt.Errorf("labels: program %q: identifier %q is not system|value (no white space around either)", name, i))
				continue
			}
			ix.idents[identifierSystem(sys)+"|"+v] = name
			if identifierSystem(sys) == npiSystem {
				if ix.npis == nil {
					ix.npis = map[string]string{}
				}
				ix.npis[v] = name
			}
		}
		for _, s := range p.Sources {
			if normSource(s) == "" {
				// As compared, an empty source would start every
				// meta.source.
				errs = append(errs, fmt.Errorf("labels: program %q: empty source %q", name, s))
				continue
			}
			ix.sources = append(ix.sources, sourcePrefix{uri: normSource(s), name: name})
		}
	}
	seen := map[string]bool{}
	word := func(w string, least int) {
		if w = strings.ToLower(strings.TrimSpace(w)); len(w) >= least && !seen[w] {
			seen[w] = true
			ix.words = append(ix.words, w)
		}
	}
	// Ids and identifier values alone only from five bytes: "123" would
	// match any narrative with a house number (QA round 14).
	for r, name := range ix.refs {
		word(name, 3)
		word(r, 3)
		word(r[strings.IndexByte(r, '/')+1:], 5)
	}
	for i, name := range ix.idents {
		word(name, 3)
		_, v, _ := strings.Cut(i, "|")
		word(v, 5)
	}
	for _, s := range ix.sources {
		word(s.name, 3)
	}
	sort.Strings(ix.words)
	return ix, errors.Join(errs...)
}

// ProgramWords are the words that name a configured Part 2 program in
// prose, lower-cased: its name and its references (three bytes or more),
// their ids and its identifier values (five or more). A Patient's narrative that holds
// one is withheld from callers who may not learn of an enrolment, on every
// Patient alike (proxy/enrolment.go).
func (l *Labeller) ProgramWords() []string {
	return l.rs.Load().programs.words
}

// empty reports whether no program is configured.
func (ix *programIndex) empty() bool {
	return len(ix.refs)+len(ix.idents)+len(ix.sources) == 0
}

// byReference returns the program a reference string names, or "".
func (ix *programIndex) byReference(ref []byte) string {
	if len(ix.refs) == 0 {
		return ""
	}
	key, _ := referenceKey(ref)
	if key == nil {
		return ""
	}
	return ix.refs[string(key)]
}

// byIdentifier returns the program an identifier names, or "".
func (ix *programIndex) byIdentifier(system, value []byte) string {
	if len(ix.idents) == 0 {
		return ""
	}
	var buf [256]byte
	key := appendIdentSystem(buf[:0], system)
	key = append(append(key, '|'), bytes.TrimSpace(value)...)
	if p := ix.idents[string(key)]; p != "" {
		return p
	}
	if string(appendIdentSystem(buf[:0], system)) == npiSystem {
		return ix.byNPIValue(value) // the NPI's 15-digit form (npiDigits)
	}
	return ""
}

// npiDigits returns the NPI v (white space around it trimmed) as its ten
// digits: written in its 15-digit card-issuer form (80840, the prefix its
// check digit is computed with, then the ten digits), as some billing
// systems write it, the prefix is dropped.
func npiDigits(v []byte) []byte {
	v = bytes.TrimSpace(v)
	if len(v) == 15 && bytes.HasPrefix(v, []byte("80840")) {
		return v[5:]
	}
	return v
}

// npiSystem is the NPI's identifier system as programs are indexed by it.
const npiSystem = "http://hl7.org/fhir/sid/us-npi"

// byNPIValue returns the program whose NPI value (white space around it
// trimmed) is, or "". An NPI is ten digits with a check digit, a number
// no other member of a record holds by chance, and sites write it without
// its system: an extension's valueString ("ordering facility NPI"), an
// identifier with no system or only a type of NPI, a display. Matched
// with its system only, a record naming its Part 2 program so was
// disclosed as ordinary (QA round 34, area C).
func (ix *programIndex) byNPIValue(value []byte) string {
	if len(ix.npis) == 0 {
		return ""
	}
	return ix.npis[string(npiDigits(value))]
}

// minProgramName is the length from which a program's name is matched
// in a display (byName): a shorter one ("ABC") could be any provider's.
const minProgramName = 5

// byName returns the program whose configured name the display or name
// v is (nameKey: case, and white space around and within, aside), or "".
// A record that names its program in words alone (a performer or
// serviceProvider {"display": "Riverside Recovery Center"}, as C-CDA
// conversions and hand-entered records write it; a contained
// Organization with the program's name) told a caller who may not read
// the program's records that the patient was treated by it (QA round 34,
// area C).
func (ix *programIndex) byName(v []byte) string {
	if len(ix.names) == 0 {
		return ""
	}
	var buf [128]byte
	return ix.names[string(nameKey(buf[:0], v))]
}

// nameKey appends to dst the name n as program names are compared: white
// space around it dropped and within it as one space, ASCII letters in
// lower case.
func nameKey(dst, n []byte) []byte {
	space := false
	n = bytes.TrimFunc(n, unicode.IsSpace)
	for i := 0; i < len(n); {
		c := n[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case isSpace(c):
				space = true
				continue
			case space:
				dst = append(dst, ' ')
				space = false
			}
			dst = append(dst, lowerASCII(c))
			continue
		}
		// A name beyond ASCII ("Centro Médico", written in capitals by a
		// system that keeps names so, or with a no-break space) is
		// compared by its runes' lower case.
		r, size := utf8.DecodeRune(n[i:])
		switch {
		case unicode.IsSpace(r):
			space = true
			i += size
			continue
		case space:
			dst = append(dst, ' ')
			space = false
		}
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, c)
		} else {
			dst = utf8.AppendRune(dst, unicode.ToLower(r))
		}
		i += size
	}
	return dst
}

// identifierSystems are other spellings of identifier systems a program is
// configured by: the NPI's OID, as C-CDA conversions write it.
var identifierSystems = map[string]string{
	"urn:oid:2.16.840.1.113883.4.6": "http://hl7.org/fhir/sid/us-npi",
}

// identifierSystem is sys as programs are indexed by it.
func identifierSystem(sys string) string {
	return string(appendIdentSystem(nil, []byte(sys)))
}

// appendIdentSystem appends to dst the identifier system sys as programs
// and identifiers are compared, so that a spelling a server accepts
// matches the configured one (QA round 25): white space around it and
// trailing slashes dropped; an OID with or without urn:oid: (in any case)
// as urn:oid:OID; a URL with http for https and its scheme and host in
// lower case; and the NPI's OID as the NPI's URL (identifierSystems).
// Identifying a record of a program by one spelling and not another would
// leave it unlabelled.
func appendIdentSystem(dst, sys []byte) []byte {
	sys = bytes.TrimSpace(sys)
	for len(sys) > 1 && sys[len(sys)-1] == '/' {
		sys = sys[:len(sys)-1]
	}
	start := len(dst)
	switch {
	case hasPrefixFold(sys, "urn:oid:"):
		dst = append(append(dst, "urn:oid:"...), sys[len("urn:oid:"):]...)
	case isOID(sys):
		dst = append(append(dst, "urn:oid:"...), sys...)
	case hasPrefixFold(sys, "http://") || hasPrefixFold(sys, "https://"):
		rest := sys[len("http://"):]
		if lowerASCII(sys[4]) == 's' {
			rest = sys[len("https://"):]
		}
		end := authorityEnd(rest)
		dst = append(dst, "http://"...)
		for _, c := range rest[:end] {
			dst = append(dst, lowerASCII(c))
		}
		dst = append(dst, rest[end:]...)
	default:
		return append(dst, sys...)
	}
	if alias, ok := identifierSystems[string(dst[start:])]; ok {
		dst = append(dst[:start], alias...)
	}
	return dst
}

// authorityEnd returns where the authority at the start of rest (a URL
// after its scheme) ends: at the first '/', '?' or '#', or its end.
func authorityEnd(rest []byte) int {
	for k, c := range rest {
		if c == '/' || c == '?' || c == '#' {
			return k
		}
	}
	return len(rest)
}

// isOID reports whether s is an OID: digits and dots, a digit first and
// last, at least one dot.
func isOID(s []byte) bool {
	if len(s) < 3 || s[0] < '0' || s[0] > '9' || s[len(s)-1] == '.' {
		return false
	}
	dots := 0
	for _, c := range s {
		switch {
		case c == '.':
			dots++
		case c < '0' || c > '9':
			return false
		}
	}
	return dots > 0
}

// bySource returns the program a meta.source names, or "": the configured
// source itself, or it followed by '#', '/' or '?', both spelt as
// appendSource spells them.
func (ix *programIndex) bySource(src []byte) string {
	if len(ix.sources) == 0 {
		return ""
	}
	var buf [256]byte
	if n := canonicalSource(src); n > 0 {
		src = src[n:]
	} else {
		src = appendSource(buf[:0], src)
	}
	for _, s := range ix.sources {
		if !bytes.HasPrefix(src, []byte(s.uri)) {
			continue
		}
		if rest := src[len(s.uri):]; len(rest) == 0 || rest[0] == '#' || rest[0] == '/' || rest[0] == '?' {
			return s.name
		}
	}
	return ""
}

// normSource is a configured source as sources are compared
// (appendSource).
func normSource(s string) string { return string(appendSource(nil, []byte(s))) }

// canonicalSource returns, in one pass, the length of the scheme ("http:"
// or "https:") of src when src is an http(s) URL that appendSource would
// only cut it from (nearly every meta.source), so that it is compared
// without a copy; 0 otherwise.
func canonicalSource(src []byte) int {
	var n int
	switch {
	case hasPrefix(src, "https://"):
		n = len("https:")
	case hasPrefix(src, "http://"):
		n = len("http:")
	default:
		return 0
	}
	host, path := true, true
	for k := n + 2; k < len(src); k++ {
		c := src[k]
		switch {
		case c == '|' || c == '%' || c <= ' ':
			return 0
		case host && (c == '/' || c == '?' || c == '#'):
			if k == n+2 || src[k-1] == '.' {
				return 0
			}
			host, path = false, c == '/'
		case host && ('A' <= c && c <= 'Z' || c == ':' || c == '@'):
			return 0
		case path && c == '/' && src[k-1] == '/':
			return 0
		case path && (c == '?' || c == '#'):
			path = false
		}
	}
	if last := src[len(src)-1]; last == '/' || host && last == '.' {
		return 0
	}
	return n
}

// appendSource appends to dst the source URI src as sources are compared,
// so that a spelling a server accepts matches the configured one: white
// space around it and a "|version" suffix dropped; an http or https URL
// without its scheme ("//host/path", http and https alike), its host in
// lower case, without user info, its default port and a trailing dot; doubled slashes in its path as one and
// percent-escapes of unreserved characters decoded; an OID with or
// without urn:oid: (in any case) as urn:oid:OID; trailing slashes
// dropped. Any other URI is trimmed only. Missed, a Part 2 program's
// record would be labelled as any other (QA round 25: http for https,
// "//", "%65", "URN:OID:", a bare OID).
func appendSource(dst, src []byte) []byte {
	src = bytes.TrimSpace(src)
	if i := bytes.IndexByte(src, '|'); i >= 0 {
		src = bytes.TrimSpace(src[:i])
	}
	start := len(dst)
	switch {
	case hasPrefixFold(src, "urn:oid:"):
		dst = append(append(dst, "urn:oid:"...), src[len("urn:oid:"):]...)
	case isOID(src):
		dst = append(append(dst, "urn:oid:"...), src...)
	case hasPrefix(src, "https://") || hasPrefix(src, "http://") || hasPrefixFold(src, "http://") || hasPrefixFold(src, "https://"):
		https := lowerASCII(src[4]) == 's'
		rest := src[len("http://"):]
		if https {
			rest = src[len("https://"):]
		}
		end := authorityEnd(rest)
		host := rest[:end]
		if at := bytes.LastIndexByte(host, '@'); at >= 0 {
			host = host[at+1:]
		}
		if https && bytes.HasSuffix(host, []byte(":443")) {
			host = host[:len(host)-4]
		} else if !https && bytes.HasSuffix(host, []byte(":80")) {
			host = host[:len(host)-3]
		}
		host = bytes.TrimSuffix(host, []byte("."))
		dst = append(dst, "//"...)
		for _, c := range host {
			dst = append(dst, lowerASCII(c))
		}
		dst = appendSourcePath(dst, rest[end:])
	default:
		dst = append(dst, src...)
	}
	for len(dst) > start && dst[len(dst)-1] == '/' {
		dst = dst[:len(dst)-1]
	}
	return dst
}

// appendSourcePath appends the path (and query and fragment) p of a
// source URL with doubled slashes before its query or fragment as one and
// percent-escapes of unreserved characters decoded.
func appendSourcePath(dst, p []byte) []byte {
	inPath := true
	for k := 0; k < len(p); k++ {
		c := p[k]
		switch {
		case c == '?' || c == '#':
			inPath = false
		case inPath && c == '/' && len(dst) > 0 && dst[len(dst)-1] == '/':
			continue
		case c == '%' && k+2 < len(p) && isHex(p[k+1]) && isHex(p[k+2]):
			if d := unhex(p[k+1])<<4 | unhex(p[k+2]); isUnreserved(d) {
				dst = append(dst, d)
				k += 2
				continue
			}
		}
		dst = append(dst, c)
	}
	return dst
}

// isUnreserved reports whether c is an unreserved URI character (RFC
// 3986): its percent-escape means c itself.
func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// referenceKey returns "Type/id" of a literal reference and the length of
// Type: the last two path segments of a relative or absolute reference,
// with a /_history suffix (with or without a version) removed. It returns
// nil for references that name no resource (contained, urn:, search URLs).
//
// A reference that a FHIR server may well resolve though it is not spelled
// Type/id reads as the resource it names, since ignoring it fails open (no
// label passed on, no Part 2 program matched, no unknown target read):
// white space around it and its segments is trimmed, it is cut at '#' or
// '?', empty segments (trailing or doubled slashes) are skipped, and
// percent-escapes are decoded. Type must be letters, the first upper case,
// and id a FHIR id. The key is a subslice of ref when ref holds "Type/id"
// as it stands (every ordinary reference: no allocation), else a new slice.
func referenceKey(ref []byte) (key []byte, typLen int) {
	// An ordinary reference: a valid type and id after the last two
	// slashes, and no '#' or '?' before them (after which a slash would not
	// separate segments) nor '_' (only a reference with one can hold
	// /_history).
	// The type and id segments are checked first: a valid id holds no
	// '_', '?', '#', '%' or white space, and a /_history tail fails the
	// type check, so only what comes before the type (a base URL, for an
	// absolute reference) is searched for '?', '#' and '_' (an earlier
	// /_history). One pass over the prefix, none over a relative reference,
	// instead of three over the whole (BenchmarkPipeline: referenceKey was
	// 2.7 % of a 1,000-entry search).
	slash := bytes.LastIndexByte(ref, '/')
	if slash < 0 && bytes.IndexByte(ref, '%') < 0 {
		return nil, 0 // urn:uuid:..., urn:oid:...
	}
	if slash > 0 {
		id, head := ref[slash+1:], ref[:slash]
		typStart := bytes.LastIndexByte(head, '/') + 1
		if typ := head[typStart:]; validID(id) && validType(typ) && (typStart == 0 || bytes.IndexAny(ref[:typStart], "?#_") < 0) {
			return ref[typStart:], len(typ)
		}
	}
	ref = cleanReference(ref)
	is, ie := lastSegment(ref, len(ref))
	ts, te := lastSegment(ref, is)
	is, ie = trimBounds(ref, is, ie)
	ts, te = trimBounds(ref, ts, te)
	typ, id := ref[ts:te], ref[is:ie]
	if !validID(id) || !validType(typ) {
		return nil, 0
	}
	if te+1 == is { // "Type/id" as it stands
		return ref[ts:ie], len(typ)
	}
	key = make([]byte, 0, len(typ)+1+len(id))
	return append(append(append(key, typ...), '/'), id...), len(typ)
}

// cleanReference trims white space around ref, cuts it at '#' or '?',
// decodes its percent-escapes (into a new slice, when it has any) and cuts
// it at the first /_history segment (with or without a version after it).
func cleanReference(ref []byte) []byte {
	s, e := trimBounds(ref, 0, len(ref))
	ref = ref[s:e]
	if i := bytes.IndexAny(ref, "#?"); i >= 0 {
		ref = ref[:i]
	}
	if bytes.IndexByte(ref, '%') >= 0 {
		ref = percentDecoded(ref)
	}
	const history = "/_history"
	for from := 0; ; {
		i := bytes.Index(ref[from:], []byte(history))
		if i < 0 {
			return ref
		}
		at := from + i
		if end := at + len(history); end == len(ref) || ref[end] == '/' {
			return ref[:at]
		}
		from = at + 1
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// lastSegment returns the bounds of the last non-empty '/'-separated
// segment of p[:end] (0, 0 when there is none).
func lastSegment(p []byte, end int) (start, stop int) {
	for end > 0 && p[end-1] == '/' {
		end--
	}
	return bytes.LastIndexByte(p[:end], '/') + 1, end
}

// trimBounds returns the bounds of p[s:e] without white space around it.
func trimBounds(p []byte, s, e int) (int, int) {
	for s < e && isSpace(p[s]) {
		s++
	}
	for e > s && isSpace(p[e-1]) {
		e--
	}
	return s, e
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'
}

// validType reports whether typ can be a FHIR resource type: ASCII letters,
// the first upper case.
func validType(typ []byte) bool {
	if len(typ) == 0 || typ[0] < 'A' || typ[0] > 'Z' {
		return false
	}
	for _, c := range typ {
		if (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

// ProgramOfReference returns the name of the Part 2 program a reference
// ("Organization/x", absolute or versioned) names, or "".
func (l *Labeller) ProgramOfReference(ref string) string {
	rs := l.rs.Load()
	return rs.programs.byReference([]byte(ref))
}

// ProgramOfIdentifier returns the name of the Part 2 program an identifier
// names, or "".
func (l *Labeller) ProgramOfIdentifier(system, value string) string {
	rs := l.rs.Load()
	return rs.programs.byIdentifier([]byte(system), []byte(value))
}

// ProgramOfNPI returns the name of the Part 2 program whose NPI value
// (without its system: an extension's valueString, an identifier of no
// system) is value, or "".
func (l *Labeller) ProgramOfNPI(value string) string {
	rs := l.rs.Load()
	return rs.programs.byNPIValue([]byte(value))
}

// ProgramOfSource returns the name of the Part 2 program a meta.source
// URI is of, or "".
func (l *Labeller) ProgramOfSource(src string) string {
	rs := l.rs.Load()
	return rs.programs.bySource([]byte(src))
}

// HasPrograms reports whether any Part 2 program is configured.
func (l *Labeller) HasPrograms() bool {
	rs := l.rs.Load()
	return !rs.programs.empty()
}

// percentDecoded returns ref with each valid percent-escape decoded, in a
// new slice; an invalid one is kept as written.
func percentDecoded(ref []byte) []byte {
	out := make([]byte, 0, len(ref))
	for k := 0; k < len(ref); k++ {
		if ref[k] == '%' && k+2 < len(ref) && isHex(ref[k+1]) && isHex(ref[k+2]) {
			out = append(out, unhex(ref[k+1])<<4|unhex(ref[k+2]))
			k += 2
			continue
		}
		out = append(out, ref[k])
	}
	return out
}
