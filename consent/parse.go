package consent

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
)

// DefaultMaxSize is the largest consent, in bytes, that [Store.Put] accepts
// unless [WithMaxSize] says otherwise.
const DefaultMaxSize = 1 << 20

// maxJSONDepth bounds the nesting of objects and arrays in a consent; it
// leaves room for maxDepth provisions and keeps the checks linear in size.
const maxJSONDepth = 3*maxDepth + 16

var (
	fhirID     = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)
	patientRef = regexp.MustCompile(`^Patient/[A-Za-z0-9\-.]{1,64}$`)
)

// parsed is a consent that has been decoded and checked.
type parsed struct {
	res      resourceJSON
	policies []string
	root     *node  // nil when the consent has no provision
	rootFrom string // where the root's type came from; see checkRoot
	r5       bool   // read as R5: problem paths name R5 elements (r5Path)
	// grantees are the forms of an R5 consent's grantees (see r5Grantees):
	// its permits are given to them alone.
	grantees []string
}

// parse decodes and validates raw as a Consent, R5 when its shape says so
// (see r5.go) and R4 otherwise. maxSize <= 0 means no size limit. Every
// problem found is returned in one *ValidationError.
func parse(raw []byte, maxSize int) (*parsed, error) {
	return parseRelease(raw, maxSize, ReleaseAuto)
}

// parseRelease is parse for a given release.
func parseRelease(raw []byte, maxSize int, rel Release) (*parsed, error) {
	var errs problems
	if !checkShape(raw, maxSize, &errs) {
		return nil, errs.err()
	}
	if rel == ReleaseR5 || (rel == ReleaseAuto && isR5(raw)) {
		return parseR5(raw)
	}
	return parseR4(raw, maxSize)
}

// roleOptional says whether a provision's actor may leave out its role:
// R4 requires one (1..1), R5 does not (0..1).
type roleOptional bool

// parseR4 decodes and validates raw as an R4 Consent.
func parseR4(raw []byte, maxSize int) (*parsed, error) {
	return parseConverted(raw, maxSize, false)
}

// parseConverted is parseR4 for an R4 consent or, r5 true, one converted
// from R5 (r5ToR4), whose actors may have no role.
func parseConverted(raw []byte, maxSize int, r5 roleOptional) (*parsed, error) {
	var errs problems
	if !checkShape(raw, maxSize, &errs) {
		return nil, errs.err()
	}
	scanKeys(raw, &errs)
	keysOK := len(errs) == 0
	p := &parsed{}
	if err := json.Unmarshal(raw, &p.res); err != nil {
		errs.add(decodePath("Consent", err), "%s", decodeMessage(err))
	}
	p.checkResource(&errs)
	p.root, p.rootFrom = checkRoot(p.res.Provision, p.res.PolicyRule, keysOK, r5, &errs)
	return p, errs.err()
}

// checkShape reports whether raw is small enough, valid JSON, an object, and
// shallow enough for the other checks to run.
func checkShape(raw []byte, maxSize int, errs *problems) bool {
	switch {
	case maxSize > 0 && len(raw) > maxSize:
		errs.add("Consent", "is %d bytes, more than the limit of %d", len(raw), maxSize)
	case !json.Valid(raw):
		errs.add("Consent", "is not valid JSON")
	case bytes.TrimSpace(raw)[0] != '{':
		errs.add("Consent", "is not a JSON object")
	case jsonDepth(raw) > maxJSONDepth:
		errs.add("Consent", "nests objects and arrays deeper than %d levels", maxJSONDepth)
	default:
		return true
	}
	return false
}

// jsonDepth returns the deepest nesting of objects and arrays in valid JSON.
func jsonDepth(raw []byte) int {
	depth, deepest, inString, escaped := 0, 0, false, false
	for _, c := range raw {
		switch {
		case escaped:
			escaped = false
		case inString:
			escaped, inString = c == '\\', c != '"'
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// checkResource validates the top-level elements and collects the policies.
func (p *parsed) checkResource(errs *problems) {
	r := &p.res
	if r.ResourceType != "Consent" {
		errs.add("Consent.resourceType", "is %q, want \"Consent\"", r.ResourceType)
	}
	if r.ID != "" && !fhirID.MatchString(r.ID) {
		errs.add("Consent.id", "%q is not a FHIR id ([A-Za-z0-9-.]{1,64})", r.ID)
	}
	if r.ImplicitRules != "" {
		errs.add("Consent.implicitRules", "is set; rules the proxy does not know could change the consent's meaning")
	}
	if len(r.ModifierExtension) > 0 {
		errs.add("Consent.modifierExtension", "is not understood and could change the consent's meaning")
	}
	checkStatus(r.Status, errs)
	checkScope(r.Scope, errs)
	checkPatient(r.Patient, errs)
	p.policies = policies(r)
}

// checkStatus requires a status from the R4 value set.
func checkStatus(status string, errs *problems) {
	switch {
	case status == "":
		errs.add("Consent.status", "is required")
	case !statuses[status]:
		errs.add("Consent.status", "%q is not one of draft, proposed, active, rejected, inactive, entered-in-error", status)
	}
}

// checkScope accepts a missing scope (for now) or a patient-privacy one,
// also under consentscope's FHIR STU3 URL (http://hl7.org/fhir/consentscope),
// which EHRs still write: refused, an upstream privacy consent so coded was
// read as a denial of everything for its patient.
func checkScope(scope *codeableConcept, errs *problems) {
	if scope == nil {
		return
	}
	for _, c := range scope.Coding {
		if (c.System == scopeSystem || c.System == legacyScopeSystem) && c.Code == scopePrivacy {
			return
		}
	}
	errs.add("Consent.scope", "is not %s|%s: only privacy consents direct disclosure", scopeSystem, scopePrivacy)
}

// checkPatient requires a literal "Patient/<id>" reference.
func checkPatient(ref *reference, errs *problems) {
	switch {
	case ref == nil || ref.Reference == "":
		errs.add("Consent.patient.reference", "is required")
	case !patientRef.MatchString(ref.Reference):
		errs.add("Consent.patient.reference", "%q is not of the form Patient/<id>", ref.Reference)
	}
}

// policies returns the policyRule codes and policy URIs. R4's invariant
// ppc-1 (at least one of them) is not enforced yet: a consent without either
// simply names no policy, which a policy reading Policies treats as covering
// none.
func policies(r *resourceJSON) []string {
	out := []string{}
	if r.PolicyRule != nil {
		for _, c := range r.PolicyRule.Coding {
			out = appendNew(out, c.Code)
		}
	}
	for _, p := range r.Policy {
		out = appendNew(out, p.URI)
	}
	return out
}

// appendNew appends s unless it is empty or already present.
func appendNew(list []string, s string) []string {
	if s == "" {
		return list
	}
	for _, have := range list {
		if have == s {
			return list
		}
	}
	return append(list, s)
}

// decodeProvision decodes the provision tree, rejecting unknown fields. When
// the key scan already reported them (with their paths), the decoder's own,
// pathless, unknown-field error is not repeated; encoding/json still decodes
// the rest, so the tree can be checked for further problems.
func decodeProvision(raw json.RawMessage, keysOK bool, errs *problems) *provisionJSON {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var p provisionJSON
	err := dec.Decode(&p)
	var typeErr *json.UnmarshalTypeError
	if err != nil && (keysOK || errors.As(err, &typeErr)) {
		errs.add(decodePath("Consent.provision", err), "%s", decodeMessage(err))
	}
	return &p
}

// decodePath returns where a decoding error happened, below base.
func decodePath(base string, err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		return base + "." + typeErr.Field
	}
	return base
}

// decodeMessage describes a decoding error without Go type names.
func decodeMessage(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return "has a JSON " + typeErr.Value + " where the R4 model has another type"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// Info is what validation learns about a consent before it is stored.
type Info struct {
	// ID is the consent's id, "" when it has none.
	ID string
	// Patient is the consent's subject, "Patient/<id>".
	Patient string
	// Status is the consent's status code.
	Status string
}

// Validate checks raw exactly as [Store.Put] does (with the default size
// limit), without storing it, so that a caller can check more (that the
// patient exists, say) before anything changes.
func Validate(raw []byte) (Info, error) {
	return ValidateRelease(raw, ReleaseAuto)
}

// ValidateRelease is Validate reading raw as the given FHIR release.
func ValidateRelease(raw []byte, rel Release) (Info, error) {
	doc, err := parseForWrite(raw, DefaultMaxSize, rel)
	if err != nil {
		return Info{}, err
	}
	return Info{ID: doc.res.ID, Patient: doc.res.Patient.Reference, Status: doc.res.Status}, nil
}

// otherScopes are the R4 consentscope codes of consents that are not about
// disclosure: research (taking part in a study), treatment (a procedure)
// and adr (an advance directive).
var otherScopes = map[string]bool{"research": true, "treatment": true, "adr": true}

// NotPrivacy reports whether raw is a Consent whose scope says it is not a
// privacy consent: every coding of Consent.scope is research, treatment or
// adr of the consentscope system (under its current URL or the FHIR STU3
// one), and there is at least one. Such a consent directs no disclosure
// (DOMAIN: a privacy consent has scope patient-privacy): read from the
// upstream it is left out, where failing validation it became a denial of
// everything for its patient (QA round 30). A scope that cannot be told
// (absent, text only, another system, patient-privacy beside another code)
// is not reported, and validation judges it.
func NotPrivacy(raw []byte) bool {
	_, ok := otherScopesOf(raw)
	return ok
}

// otherScopesOf returns the scope codes of raw when NotPrivacy reports it.
func otherScopesOf(raw []byte) ([]string, bool) {
	var errs problems
	if !json.Valid(raw) {
		return nil, false
	}
	scanKeys(raw, &errs) // duplicated keys, or "Scope" beside "scope": another reader may see other codes
	if len(errs) > 0 {
		return nil, false
	}
	top, ok := exactMembers(raw, "resourceType", "scope")
	if !ok || string(top["resourceType"]) != `"Consent"` || top["scope"] == nil {
		return nil, false
	}
	scope, ok := exactMembers(top["scope"], "coding")
	if !ok {
		return nil, false
	}
	var codings []json.RawMessage
	if json.Unmarshal(scope["coding"], &codings) != nil || len(codings) == 0 {
		return nil, false
	}
	var codes []string
	for _, raw := range codings {
		c, ok := exactMembers(raw, "system", "code")
		if !ok {
			return nil, false
		}
		var system, code string
		if json.Unmarshal(c["system"], &system) != nil || json.Unmarshal(c["code"], &code) != nil ||
			(system != scopeSystem && system != legacyScopeSystem) || !otherScopes[code] {
			return nil, false
		}
		codes = append(codes, code)
	}
	return codes, true
}

// exactMembers returns the members of the JSON object raw named exactly as
// keys; false when raw is not an object or has a member whose name is one
// of keys in another case (encoding/json would read it as that key).
func exactMembers(raw []byte, keys ...string) (map[string]json.RawMessage, bool) {
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil || obj == nil {
		return nil, false
	}
	out := map[string]json.RawMessage{}
	for k, v := range obj {
		for _, want := range keys {
			switch {
			case k == want:
				out[k] = v
			case strings.EqualFold(k, want):
				return nil, false
			}
		}
	}
	return out, true
}

// legacyScopeSystem is consentscope's URL in FHIR STU3.
const legacyScopeSystem = "http://hl7.org/fhir/consentscope"
