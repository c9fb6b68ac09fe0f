package proxy

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ds4p/ds4p/internal/fhirsearch"
	"github.com/ds4p/ds4p/internal/fjson"
)

// DefaultPagingTTL is how long a page token stays valid.
const DefaultPagingTTL = 10 * time.Minute

// RequestRules are the request-side enforcement settings. The zero value is
// the safe default: everything below refused, a random paging key per
// process (page links then do not survive a restart), 10-minute page links.
type RequestRules struct {
	// PagingKey is the secret page tokens are sealed with (at least 32
	// bytes); empty: 32 random bytes per process.
	PagingKey []byte
	// PagingTTL is how long a page link stays valid.
	PagingTTL time.Duration
	// RefillPages is how many upstream pages one page of a search may
	// read to hold as many matches as the server's page size when some
	// were withheld (refill.go); 0: DefaultRefillPages.
	RefillPages int
	// AllowSummaryCount lets _summary=count through (the response side then
	// omits Bundle.total when anything is withheld); refused otherwise.
	AllowSummaryCount bool
	// AllowChains lets chained parameters (subject:Patient.name=...) through.
	AllowChains bool
	// AllowHas lets _has reverse chains through.
	AllowHas bool
	// AllowExport lets bulk $export (and its status URLs) through.
	AllowExport bool
	// AllowList lets the _list search parameter (and R5's _in) through.
	AllowList bool
	// AllowSubscriptions lets callers create, change and read
	// Subscriptions, whose notifications the FHIR server sends past the
	// proxy and whose criteria the labeller does not read.
	AllowSubscriptions bool
	// AllowTextSearch lets _content and _text through: they match the text
	// of elements cut from what a caller sees.
	AllowTextSearch bool
	// AllowOperations names operations (with or without the leading $)
	// let through beside the built-in ones (builtinOperations, route.go);
	// any other operation is refused. $export is AllowExport's.
	AllowOperations []string
	// SearchParams declares the search parameters a site's FHIR server
	// defines beyond FHIR R4's (custom SearchParameters, a vendor's own,
	// such as Medplum's DiagnosticReport.study). A plain id in a parameter
	// that is neither FHIR R4's nor declared is refused: the proxy cannot
	// tell whether the server reads it as a reference (searchrefs.go).
	SearchParams []SearchParam
}

// SearchParam is a search parameter the site's server defines
// (enforcement.search_params).
type SearchParam struct {
	// Resource is the type searched, or Resource for every type.
	Resource string `yaml:"resource"`
	// Code is the parameter's name in the query.
	Code string `yaml:"code"`
	// Type is the FHIR search parameter type: reference, token, string,
	// date, uri, number, quantity, composite or special.
	Type string `yaml:"type"`
	// Targets are the types a reference parameter may refer to; none: any
	// type (a plain id is then refused, as for List.item).
	Targets []string `yaml:"targets"`
}

// searchParamTypes are FHIR's search parameter types.
var searchParamTypes = []string{"reference", "token", "string", "date", "uri", "number", "quantity", "composite", "special"}

func (o RequestRules) withDefaults() RequestRules {
	if o.PagingTTL == 0 {
		o.PagingTTL = DefaultPagingTTL
	}
	if o.RefillPages == 0 {
		o.RefillPages = DefaultRefillPages
	}
	if len(o.PagingKey) == 0 {
		o.PagingKey = make([]byte, 32)
		_, _ = rand.Read(o.PagingKey)
	}
	return o
}

func (o RequestRules) validate() []error {
	var errs []error
	if len(o.PagingKey) > 0 && len(o.PagingKey) < 32 {
		errs = append(errs, fmt.Errorf("enforcement.paging_key: %d bytes; at least 32 are needed", len(o.PagingKey)))
	}
	if o.PagingTTL < 0 {
		errs = append(errs, errors.New("enforcement.paging_ttl must not be negative"))
	}
	if o.RefillPages < 0 || o.RefillPages > 100 {
		errs = append(errs, fmt.Errorf("enforcement.paging_refill_pages: %d; between 1 and 100 (0: the default, %d)", o.RefillPages, DefaultRefillPages))
	}
	for _, op := range o.AllowOperations {
		switch {
		case !operationName(op):
			errs = append(errs, fmt.Errorf("enforcement.allow_operations: %q is not an operation name (such as $cql or cql: a letter, then letters, digits, - and _)", op))
		case strings.HasPrefix(strings.TrimPrefix(op, "$"), "export"):
			errs = append(errs, fmt.Errorf("enforcement.allow_operations: %q: bulk export is let through by enforcement.allow_export", op))
		}
	}
	for i, p := range o.SearchParams {
		at := fmt.Sprintf("enforcement.search_params[%d]", i)
		if !isType(p.Resource) || !validSegment(p.Resource) {
			errs = append(errs, fmt.Errorf("%s: resource %q is not a resource type (such as DiagnosticReport, or Resource for every type)", at, p.Resource))
		}
		if p.Code == "" || strings.HasPrefix(p.Code, "_") || !plainParamName(p.Code) || strings.ContainsAny(p.Code, ":.$") {
			errs = append(errs, fmt.Errorf("%s: code %q is not a search parameter name (letters, digits and -, not starting with _)", at, p.Code))
		}
		if _, r4 := fhirsearch.Lookup(p.Resource, p.Code); r4 && p.Resource != "Resource" {
			errs = append(errs, fmt.Errorf("%s: %s is FHIR R4's parameter of %s; its definition applies and cannot be declared again", at, p.Code, p.Resource))
		}
		if !slices.Contains(searchParamTypes, p.Type) {
			errs = append(errs, fmt.Errorf("%s: type %q is not one of %s", at, p.Type, strings.Join(searchParamTypes, ", ")))
		}
		if p.Type != "reference" && len(p.Targets) > 0 {
			errs = append(errs, fmt.Errorf("%s: targets are for a reference parameter; %s is a %s one", at, p.Code, p.Type))
		}
		for _, t := range p.Targets {
			if !isType(t) || !validSegment(t) {
				errs = append(errs, fmt.Errorf("%s: target %q is not a resource type", at, t))
			}
		}
	}
	return errs
}

// Searches the proxy refuses or rewrites (README "Searches the proxy refuses
// or rewrites"). A refusal depends on the request only, never on data, so it
// tells the caller nothing about what is stored.
var (
	// upstreamPagingParams are servers' own paging handles (HAPI _getpages,
	// Medplum _cursor, and the like): reachable only through a page token.
	// _offset too (HAPI, Medplum): a caller choosing it reaches a later
	// page without the earlier ones, whose decisions a page token carries
	// on (QA round 20: Patient/x/$everything?_offset=1 skipped the cut
	// Patient and released the Part 2 program's Organization).
	upstreamPagingParams = []string{"_getpages", "_getpagesoffset", "_pageid", "_page_token", "_pagetoken", "_page", "_cursor", "_bundletype", "_offset"}
	// strippedParams make the upstream send less than the whole resource or
	// a count: the proxy must label whole resources, and counts are the
	// response side's business.
	strippedParams = []string{"_elements", "_fields", "_total"}
	// opaqueModifiers name a set of codes the proxy cannot classify.
	opaqueModifiers = []string{"text", "in", "not-in", "above", "below", "not", "contains", "ofType", "text-advanced", "code-text"}
)

// guardQuery checks and rewrites the parameters of a request the caller
// sent (fromPage false) or a page token stands for (fromPage true: the
// upstream wrote it, so its own paging parameters stay). It returns the
// query to forward.
func (s *Server) guardQuery(req fhirRequest, q url.Values, fromPage bool) (url.Values, *Failure) {
	if f := s.guardExport(req); f != nil {
		return nil, f
	}
	if f := s.guardOperation(req); f != nil {
		return nil, f
	}
	if f := s.guardEnrolmentSearch(req, q); f != nil { // enrolment.go
		return nil, f
	}
	if f := s.guardProgramSource(req, q); f != nil {
		return nil, f
	}
	if f := s.guardSubscriptionRead(req, q); f != nil {
		return nil, f
	}
	if len(q) == 0 {
		return q, nil
	}
	out := url.Values{}
	for name, vs := range q {
		if !plainParamName(name) {
			// A server that trims names would read " _has" (or one
			// padded with a Unicode space) as _has, past every check
			// here, which compares names exactly.
			return nil, fail(http.StatusBadRequest, "invalid", fmt.Sprintf("the search parameter name %q has characters a FHIR search parameter name does not (letters, digits, _ - . : $)", name), nil)
		}
		keep, f := s.checkParam(name, vs, fromPage)
		if f != nil {
			return nil, f
		}
		if keep {
			out[name] = vs
		}
	}
	if f := s.guardIncludes(req, out); f != nil {
		return nil, f
	}
	return out, nil
}

// checkParam says whether one parameter is forwarded, or refuses it.
func (s *Server) checkParam(name string, vs []string, fromPage bool) (bool, *Failure) {
	rules := s.opts.Requests
	base, _, _ := strings.Cut(name, ":")
	lower := strings.ToLower(base)
	switch {
	case !fromPage && slices.Contains(upstreamPagingParams, lower):
		return false, notSupported("the FHIR server's own paging parameter " + base + " is not accepted; follow the Bundle's page links")
	case slices.Contains(strippedParams, lower):
		return false, nil
	case lower == "_summary":
		count := slices.ContainsFunc(vs, func(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "count") })
		if count && !rules.AllowSummaryCount {
			return false, notSupported("_summary=count is not supported: a count would include resources withheld from you")
		}
		return count, nil
	case lower == "_count":
		for _, v := range vs {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			switch {
			case err != nil || n < 0:
				return false, fail(http.StatusBadRequest, "invalid", "_count must be a whole number", nil)
			case n == 0 && !rules.AllowSummaryCount:
				// FHIR's count-only search ("0", "00", "-0"): the total
				// would count withheld matches, and its presence or
				// absence would tell them apart from none.
				return false, notSupported("_count=0 (a count only) is not supported: a count would include resources withheld from you")
			}
		}
	case strings.HasPrefix(strings.ToLower(name), "_has"):
		if !rules.AllowHas {
			return false, notSupported("_has (reverse chaining) is not supported: it would test facts about resources withheld from you")
		}
	case lower == "_sort":
		// HAPI FHIR sorts by a chained parameter (_sort=encounter.reason-
		// code, _sort=Practitioner:general-practitioner.family): the order,
		// and on some versions the matches, then depend on the resources
		// the chain reaches, withheld ones too (QA round 39).
		if !rules.AllowChains && slices.ContainsFunc(vs, func(v string) bool { return strings.Contains(v, ".") }) {
			return false, notSupported("_sort by a chained parameter is not supported: a chain would test facts about resources withheld from you")
		}
	case lower == "_list" || lower == "_in":
		// R5's _in (membership of a List, Group or CareTeam) selects as
		// _list does (QA round 20: Patient?_in=List/x was forwarded).
		if !rules.AllowList {
			return false, notSupported(base + " is not supported: a List or Group you may not read would still decide which resources match (enforcement.allow_list)")
		}
	case lower == "access_token":
		// RFC 6750 2.3 allows a bearer token in the query; here it would be
		// forwarded to the FHIR server and kept in the ledger's query
		// (QA). Tokens go in the Authorization header only.
		return false, fail(http.StatusBadRequest, "invalid", "a token in the URL (access_token) is not accepted: send it in the Authorization header", nil)
	case (lower == "_content" || lower == "_text") && !rules.AllowTextSearch:
		// The server matches the whole stored text, elements cut from the
		// resources it answers with included (QA: Patient?_content=<the
		// program's name> listed the program's patients, their
		// managingOrganization cut).
		return false, notSupported(base + " is not supported: it would match text withheld from you (enforcement.allow_text_search)")
	case lower == "_contained" || lower == "_containedtype":
		// _contained=true|both matches the search's criteria inside the
		// contained resources of others, and _containedType=contained
		// answers such a resource alone, without the container whose
		// labels, patient and decision it is judged with (contained.go):
		// a contained Observation of a withheld report would be
		// disclosed as an ordinary Observation. Only the defaults pass:
		// _contained=false, _containedType=container (QA round 30).
		want := "false"
		if lower == "_containedtype" {
			want = "container"
		}
		if slices.ContainsFunc(vs, func(v string) bool { return !strings.EqualFold(strings.TrimSpace(v), want) }) || strings.Contains(name, ":") {
			return false, notSupported(base + " is not supported but as " + base + "=" + want + ": a resource contained in another is judged only with its container")
		}
	case lower == "_filter" || lower == "_query":
		return false, notSupported(base + " is not supported: the proxy cannot check what it selects on")
	case strings.Contains(name, "."):
		if !rules.AllowChains {
			return false, notSupported("chained search parameters are not supported: a chain would test facts about resources withheld from you")
		}
	}
	return true, nil
}

func notSupported(msg string) *Failure {
	return fail(http.StatusBadRequest, "not-supported", msg, nil)
}

// isInclude reports whether a parameter name is _include or _revinclude
// (with any modifier, in any case).
func isInclude(name string) bool {
	n := strings.ToLower(name)
	return strings.HasPrefix(n, "_include") || strings.HasPrefix(n, "_revinclude")
}

// guardIncludes refuses _include and _revinclude on a search that selects
// by a sensitive code (or by a filter the proxy cannot classify): even with
// the matching resources withheld, the included ones (a Patient) would show
// whom the code belongs to.
func (s *Server) guardIncludes(req fhirRequest, q url.Values) *Failure {
	includes := false
	for name := range q {
		includes = includes || isInclude(name)
	}
	if !includes {
		return nil
	}
	for name, vs := range q {
		if s.sensitiveFilter(req, name, vs) {
			return notSupported("_include and _revinclude are not supported on a search by a sensitive code, or by a text or value-set filter: the included resources would reveal the match")
		}
	}
	return nil
}

// sensitiveFilter reports whether a filter parameter selects by a code the
// label rules rate sensitive, by a security label, or by something the
// proxy cannot classify (text, value sets, negation).
func (s *Server) sensitiveFilter(req fhirRequest, name string, vs []string) bool {
	base, mod, _ := strings.Cut(name, ":")
	if strings.HasPrefix(base, "_") {
		switch strings.ToLower(base) {
		case "_security", "_tag", "_text", "_content", "_list", "_in":
			return true
		}
		return false
	}
	if slices.ContainsFunc(opaqueModifiers, func(m string) bool { return strings.EqualFold(m, mod) }) {
		return true
	}
	for _, v := range vs {
		for _, alt := range strings.Split(v, ",") {
			// A composite value (code-value-concept=LOINC$SNOMED) joins
			// its components with $: each is a token of its own (QA round
			// 20: 1234$F11.20 was tried as one code and passed).
			for _, part := range strings.Split(alt, "$") {
				if s.sensitiveCode(req.Type, strings.TrimSpace(part)) {
					return true
				}
			}
		}
	}
	return false
}

// sensitiveCode asks the labeller whether a token value ([system]|code or
// code) is a code its rules label. Without a system it tries every system
// the rules know, as a token search without one matches any system.
func (s *Server) sensitiveCode(typ, value string) bool {
	system, code, hasSystem := strings.Cut(value, "|")
	if !hasSystem {
		code, system = system, ""
	}
	if code == "" {
		return false
	}
	types := []string{typ}
	if typ == "" { // a system-level search: a rule may be limited to some types
		types = clinicalTypes
	}
	var systems []string
	if system != "" {
		systems = []string{system}
	} else {
		for _, r := range s.labeller.Rules() {
			if !slices.Contains(systems, r.System) {
				systems = append(systems, r.System)
			}
		}
	}
	for _, t := range types {
		if s.labelsCodes(t, systems, code) {
			return true
		}
	}
	return false
}

// clinicalTypes are tried for a code searched at system level.
var clinicalTypes = []string{"Condition", "Observation", "Procedure", "MedicationRequest", "MedicationStatement",
	"MedicationAdministration", "MedicationDispense", "Encounter", "DiagnosticReport", "ServiceRequest",
	"CarePlan", "AllergyIntolerance", "Immunization", "DocumentReference", "Claim", "ExplanationOfBenefit", "Basic"}

// labelsCodes reports whether the labeller labels a resource of type typ
// holding code in each of systems (errors count as sensitive).
func (s *Server) labelsCodes(typ string, systems []string, code string) bool {
	doc := []byte(`{"resourceType":`)
	doc = fjson.AppendString(doc, typ)
	doc = append(doc, `,"code":{"coding":[`...)
	for i, sys := range systems {
		if i > 0 {
			doc = append(doc, ',')
		}
		doc = append(doc, `{"system":`...)
		doc = fjson.AppendString(doc, sys)
		doc = append(doc, `,"code":`...)
		doc = fjson.AppendString(doc, code)
		doc = append(doc, '}')
	}
	doc = append(doc, "]}}"...)
	res, err := s.labeller.Label(doc)
	return err != nil || len(res.Labels) > 0
}

// guardProgramSource refuses a search of Patients by the meta.source of
// a 42 CFR Part 2 program (QA round 30): a record whose meta.source names
// the program is the program's record and withheld, but a Patient never is
// (labels directoryTypes, enrolment.go), so Patient?_source=<the program's
// source> answered the program's patient list, as
// Patient?organization=<the program> would (refused there). Refused when
// programs are configured and the search may answer Patients (a Patient
// search, a compartment's Patients such as Practitioner/x/Patient, a
// system search naming Patient in _type or naming no _type: a
// server searches _source, a parameter of every type, across all of
// them): a _source value the label rules read as a program's source, any
// _source modifier (:below, :above, :contains, :missing, :not ... test a
// prefix or the member whatever its value), and _sort by _source (which
// places the program's patients together). The refusal depends on the
// request alone.
func (s *Server) guardProgramSource(req fhirRequest, q url.Values) *Failure {
	if req.Interaction != Search || !s.labeller.HasPrograms() || !mayAnswerPatients(req, q) {
		return nil
	}
	refused := func(what string) *Failure {
		return fail(http.StatusForbidden, "forbidden", "searching patients by the source of a 42 CFR Part 2 program's records ("+what+") is not allowed: the answer would list the program's patients", nil)
	}
	for name, vs := range q {
		base, modifier, _ := strings.Cut(name, ":")
		switch {
		case strings.EqualFold(base, "_sort"):
			for _, v := range vs {
				for _, key := range strings.Split(v, ",") {
					if strings.EqualFold(strings.TrimPrefix(strings.TrimSpace(key), "-"), "_source") {
						return refused("_sort=" + v)
					}
				}
			}
		case strings.EqualFold(base, "_source"):
			if modifier != "" {
				return refused(name)
			}
			for _, v := range vs {
				for _, one := range strings.Split(v, ",") {
					if s.labeller.ProgramOfSource(strings.TrimSpace(one)) != "" {
						return refused(base)
					}
				}
			}
		}
	}
	return nil
}

// mayAnswerPatients reports whether a search may answer Patients as
// matches: a Patient search, or a system search whose _type names Patient
// (or something that is not a type), or names no type at all (_type= is
// read as no _type).
func mayAnswerPatients(req fhirRequest, q url.Values) bool {
	if req.Type != "" {
		return req.Type == "Patient"
	}
	var types []string
	for name, vs := range q {
		if strings.EqualFold(name, "_type") {
			types = append(types, splitTypes(vs)...) // scopes.go
		}
	}
	return len(types) == 0 || slices.ContainsFunc(types, func(t string) bool { return t == "*" || strings.EqualFold(t, "Patient") })
}

// guardSubscriptionRead refuses reading Subscriptions (a read, vread,
// search or history of the type, or a system search or history whose
// _type names it) unless enforcement.allow_subscriptions (QA round 40): a
// Subscription's criteria is a search, often of one patient's records by a
// code the label rules withhold (Condition?subject=Patient/p1&code=F11.20),
// which the labeller does not read; a caller who may not make one has no
// use for reading others'. A Subscription in any other answer is withheld
// (subscriptionDenial, decide.go). The refusal depends on the request
// alone.
func (s *Server) guardSubscriptionRead(req fhirRequest, q url.Values) *Failure {
	if s.opts.Requests.AllowSubscriptions {
		return nil
	}
	refused := func() *Failure {
		return fail(http.StatusForbidden, "forbidden", "reading Subscriptions through the proxy is not allowed: their criteria are searches the proxy does not check (enforcement.allow_subscriptions)", nil)
	}
	switch req.Interaction {
	case Read, VRead, Search, History:
	default:
		return nil
	}
	if req.Type == "Subscription" {
		return refused()
	}
	if req.Type != "" {
		return nil
	}
	for name, vs := range q {
		if strings.EqualFold(name, "_type") && slices.ContainsFunc(splitTypes(vs), func(t string) bool { return strings.EqualFold(t, "Subscription") }) {
			return refused()
		}
	}
	return nil
}

// guardExport refuses bulk data export: it hands over whole populations in
// files the proxy never sees, bypassing every per-item decision.
func (s *Server) guardExport(req fhirRequest) *Failure {
	if s.opts.Requests.AllowExport || !strings.HasPrefix(req.Operation, "$export") {
		return nil
	}
	return fail(http.StatusForbidden, "forbidden", "bulk $export is not permitted through ds4p: it would bypass the per-resource consent decisions (enforcement.allow_export)", nil)
}

// guardOperation refuses an operation that is neither built in
// (builtinOperations) nor named in enforcement.allow_operations: its answer
// may be a computed result the response pipeline cannot label, released
// unchecked. $export is guardExport's.
func (s *Server) guardOperation(req fhirRequest) *Failure {
	op := req.Operation
	if req.Interaction != Operation || strings.HasPrefix(op, "$export") || slices.Contains(builtinOperations, op) {
		return nil
	}
	if slices.ContainsFunc(s.opts.Requests.AllowOperations, func(a string) bool { return "$"+strings.TrimPrefix(a, "$") == op }) {
		return nil
	}
	return fail(http.StatusForbidden, "not-supported", "the operation "+op+" is not allowed through the proxy: its answer may be a computed result (a count, a yes or no) about resources withheld from you, which the proxy cannot check; enforcement.allow_operations lets it through", nil)
}

// guardRawQuery applies guardQuery to a raw query string and returns the
// query to forward: the caller's own bytes when nothing was removed.
func (s *Server) guardRawQuery(req fhirRequest, rawQuery string, fromPage bool) (string, *Failure) {
	if strings.IndexByte(rawQuery, '#') >= 0 {
		// net/http leaves a fragment in the request line's query, and
		// forwards it so; a server that reads it as a fragment drops
		// what follows #, so that code=<sensitive>#x passed the checks
		// here as a code no rule labels and was searched as the
		// sensitive one (with _include beside it).
		return "", fail(http.StatusBadRequest, "invalid", "the query string has a '#': a request carries no fragment; write # in a value as %23", nil)
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", fail(http.StatusBadRequest, "invalid", "the query string is not valid", nil)
	}
	out, f := s.guardQuery(req, q, fromPage)
	if f != nil {
		return "", f
	}
	if len(out) == len(q) {
		return rawQuery, nil
	}
	return out.Encode(), nil
}

// plainParamName reports whether name uses only the characters of FHIR
// search parameter names, modifiers and chains: ASCII letters, digits and
// _ - . : $.
func plainParamName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '_' || c == '-' || c == '.' || c == ':' || c == '$':
		default:
			return false
		}
	}
	return true
}

// guardOperationParams applies the search rules (guardQuery) to the
// parameters a POST operation's Parameters body carries, merged with the
// request's query (rawQuery, as forwarded): a server takes an operation's
// parameters from the body as from the query (HAPI's Patient/$everything
// reads _count, _content, _text and _filter there, Medplum's _count and
// _offset), so Patient/x/$everything POSTed with _content, _count=0 or
// _elements in its Parameters reached the server past every rule the same
// parameters meet in a query. A parameter the rules would remove from a
// query (_elements, _total, _summary but count) cannot be removed from a
// body here: refused, as in a batch entry. A body that is not a Parameters
// resource carries no such parameters; one that is not valid JSON is
// refused.
func (s *Server) guardOperationParams(req fhirRequest, rawQuery, publicBase string, body []byte) *Failure {
	if req.Interaction != Operation || len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if f := s.guardMatchEnrolment(req, body); f != nil {
		return f
	}
	params, err := parametersOf(body, s.opts.MaxJSONDepth)
	if err != nil {
		return fail(http.StatusBadRequest, "invalid", "the operation's request body is not valid JSON", nil)
	}
	if len(params) == 0 {
		return nil
	}
	merged, err := url.ParseQuery(rawQuery)
	if err != nil {
		return fail(http.StatusBadRequest, "invalid", "the query string is not valid", nil)
	}
	for name, vs := range params {
		merged[name] = append(merged[name], vs...)
	}
	out, f := s.guardQuery(req, merged, false)
	if f != nil {
		return f
	}
	if len(out) != len(merged) {
		return notSupported("the operation's Parameters carry a parameter the proxy removes (_elements, _fields, _summary, _total); send it in the query")
	}
	if req.Operation == "$lastn" {
		// A search of Observations: the references it names would be
		// read and rewritten first (searchrefs.go), which a body cannot
		// be; a GET's query is.
		if targets, f := s.searchRefs(req.Operation, merged, publicBase); f != nil || len(targets) > 0 {
			if f == nil {
				f = notSupported("a POSTed $lastn that names a clinical resource is not supported; send it as a GET")
			}
			return f
		}
	}
	return nil
}

// parametersOf reads the parameters of a Parameters resource body that
// have a value a query could carry: a string, number or boolean value[x]
// as written, a valueCoding as system|code. Parameters holding a resource,
// parts or another complex value are left to the reference checks
// (writeguard.go guardOperationBody). Keys are compared exactly, as the
// server reads them; a body of another resource type gives none.
func parametersOf(body []byte, maxDepth int) (url.Values, error) {
	return readParameters(body, maxDepth, false)
}

// readParameters is parametersOf, with refs a valueReference's reference
// as written too (the patients a POSTed operation names, for the ledger:
// fhir.go bodyNamedParams).
func readParameters(body []byte, maxDepth int, refs bool) (url.Values, error) {
	if maxDepth <= 0 {
		maxDepth = DefaultMaxJSONDepth
	}
	if err := fjson.Validate(body, maxDepth); err != nil {
		return nil, err
	}
	obj := fjson.SkipSpace(body, 0)
	if body[obj] != '{' {
		return nil, nil
	}
	rs, re, ok, err := fjson.Lookup(body, obj, "resourceType")
	if err != nil || !ok {
		return nil, err
	}
	if rt, _ := fjson.StringValue(body, rs, re); rt != "Parameters" {
		return nil, nil
	}
	ps, pe, ok, err := fjson.Lookup(body, obj, "parameter")
	if err != nil || !ok || body[ps] != '[' && body[ps] != '{' {
		return nil, err
	}
	q := url.Values{}
	one := func(vs, _ int) error {
		if body[vs] != '{' {
			return nil
		}
		var name string
		var values []string
		err := fjson.ObjectEach(body, vs, func(key []byte, ks, ke int) error {
			k := keyName(key)
			switch {
			case k == "name":
				name, _ = fjson.StringValue(body, ks, ke)
			case !strings.HasPrefix(k, "value"):
			case body[ks] == '"':
				v, _ := fjson.StringValue(body, ks, ke)
				values = append(values, v)
			case body[ks] == '{':
				switch {
				case k == "valueCoding":
					values = append(values, codingValue(body, ks))
				case refs && k == "valueReference":
					if rs, re, ok, _ := fjson.Lookup(body, ks, "reference"); ok {
						v, _ := fjson.StringValue(body, rs, re)
						values = append(values, v)
					}
				}
			default: // a number or a boolean, as written
				values = append(values, string(body[ks:ke]))
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(values) > 0 {
			q[name] = append(q[name], values...)
		}
		return nil
	}
	if body[ps] == '{' {
		// One parameter written as an object rather than an array of
		// one (invalid FHIR JSON, but a server may read it as the
		// array's one element): skipped, Patient/x/$everything POSTed
		// with {"parameter":{"name":"_content",...}} reached the server
		// past every rule (QA round 34, area A).
		return q, one(ps, pe)
	}
	return q, fjson.ArrayEach(body, ps, one)
}

// codingValue is a Coding's system|code (code alone without a system), as
// a token search value writes it.
func codingValue(b []byte, obj int) string {
	var system, code string
	if vs, ve, ok, _ := fjson.Lookup(b, obj, "system"); ok {
		system, _ = fjson.StringValue(b, vs, ve)
	}
	if vs, ve, ok, _ := fjson.Lookup(b, obj, "code"); ok {
		code, _ = fjson.StringValue(b, vs, ve)
	}
	if system == "" {
		return code
	}
	return system + "|" + code
}

// guardMatchEnrolment refuses a $match whose Patient (the body, or a
// Parameters' resource) names a 42 CFR Part 2 program where a Patient's
// enrolment would be cut (enrolment.go enrolmentElements: a
// managingOrganization, generalPractitioner, identifier assigner,
// extension or meta.source naming it), when programs are configured. The
// server scores the stored Patients against every element of the one
// given, the members ds4p cuts from them included, so
// Patient/$match with managingOrganization the program answered the
// program's patients as Patient?organization=<the program> would, which is
// refused (QA round 35, area B). The refusal depends on the request alone.
func (s *Server) guardMatchEnrolment(req fhirRequest, body []byte) *Failure {
	if req.Operation != "$match" || !s.labeller.HasPrograms() {
		return nil
	}
	if err := fjson.Validate(body, s.opts.MaxJSONDepth); err != nil {
		return fail(http.StatusBadRequest, "invalid", "the operation's request body is not valid JSON", nil)
	}
	for _, p := range matchPatients(body) {
		els, err := enrolmentElements(p, s.labeller, nil, nil)
		if err != nil || len(els) > 0 {
			return matchRefused()
		}
	}
	return nil
}

// matchRefused is the refusal of a $match naming a Part 2 program, or a
// directory entry standing for it (enrolment.go guardMatchDirectory).
func matchRefused() *Failure {
	return fail(http.StatusForbidden, "forbidden", "a $match by a 42 CFR Part 2 program or its clinicians is not allowed: the answer would list the program's patients", nil)
}

// matchPatients returns the Patients of a $match body (valid JSON): the
// body itself, or each parameter's resource of a Parameters body, whose
// resourceType is read as the server reads it ("Pati\u0065nt" is a
// Patient too: QA round 35, area F, so written it went unchecked).
func matchPatients(body []byte) [][]byte {
	obj := fjson.SkipSpace(body, 0)
	if body[obj] != '{' {
		return nil
	}
	var patients [][]byte
	rs, re, ok, err := fjson.Lookup(body, obj, "resourceType")
	if err != nil || !ok {
		return nil
	}
	switch rt, _ := fjson.StringValue(body, rs, re); rt {
	case "Patient":
		patients = append(patients, body[obj:])
	case "Parameters":
		ps, pe, ok, err := fjson.Lookup(body, obj, "parameter")
		if err != nil || !ok {
			return nil
		}
		one := func(vs, _ int) error {
			if body[vs] != '{' {
				return nil
			}
			if s, e, ok, err := fjson.Lookup(body, vs, "resource"); err == nil && ok && body[s] == '{' {
				patients = append(patients, body[s:e])
			}
			return nil
		}
		switch body[ps] {
		case '[':
			_ = fjson.ArrayEach(body, ps, one)
		case '{':
			_ = one(ps, pe)
		}
	}
	out := patients[:0]
	for _, p := range patients {
		ts, te, ok, _ := fjson.Lookup(p, 0, "resourceType")
		if !ok || p[ts] != '"' {
			continue
		}
		if rt, _ := fjson.StringValue(p, ts, te); rt == "Patient" {
			out = append(out, p)
		}
	}
	return out
}
