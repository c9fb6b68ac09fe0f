package consent

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
)

// FHIR R5 Consent (https://hl7.org/fhir/R5/consent.html) is accepted and
// read through the R4 model: the stored resource stays exactly as it was
// sent (R5), and every read (validation, normalisation, search) converts it
// to the R4 shape first. The mapping:
//
//	R5                              R4 (as read)
//	subject (a Patient)             patient
//	date                            dateTime
//	status not-done | unknown       rejected | draft (neither is in force)
//	regulatoryBasis[].coding        policyRule.coding (42CFRPart2, OPTIN ...)
//	policyBasis.url                 policy[].uri
//	decision                        the root provision's type
//	period                          the root provision's period
//	provision[] (exceptions to      the root's nested provisions, each
//	  the decision, recursively)      without type: the opposite of its parent
//	provision.resourceType,         provision.class
//	  documentType
//	provision.expression            rejected: a FHIRPath condition ds4p
//	                                  cannot evaluate would widen a permit
//	                                  or narrow a deny
//	grantee                         a level of every permit rule naming
//	                                  them (r5Grantees, toGrantees): a
//	                                  permit is given to them alone
//
// grantor, manager, controller, sourceAttachment, sourceReference,
// policyText and verification are accepted and kept but do not take part in
// decisions. A consent without decision takes the base decision of its
// regulatoryBasis, like an R4 root without type.

// r5TopLevelKeys are the elements of an R5 Consent and the "_x" siblings of
// its primitive elements.
var r5TopLevelKeys = map[string]bool{
	"resourceType": true, "id": true, "meta": true, "implicitRules": true,
	"language": true, "text": true, "contained": true, "extension": true,
	"modifierExtension": true, "identifier": true, "status": true,
	"category": true, "subject": true, "date": true, "period": true,
	"grantor": true, "grantee": true, "manager": true, "controller": true,
	"sourceAttachment": true, "sourceReference": true, "regulatoryBasis": true,
	"policyBasis": true, "policyText": true, "verification": true,
	"decision": true, "provision": true,
	"_id": true, "_implicitRules": true, "_language": true, "_status": true,
	"_date": true, "_decision": true,
}

// r5OnlyKeys are top-level elements an R4 Consent does not have: any of them
// makes a consent unambiguously R5.
var r5OnlyKeys = []string{
	"subject", "date", "period", "grantor", "grantee", "manager", "controller",
	"regulatoryBasis", "policyBasis", "policyText", "decision", "_date", "_decision",
}

// r5Provision is an R5 Consent.provision. Elements R4 shares are kept raw:
// the R4 reading checks them, with their keys, after conversion.
type r5Provision struct {
	ID                json.RawMessage   `json:"id"`
	Extension         json.RawMessage   `json:"extension"`
	ModifierExtension json.RawMessage   `json:"modifierExtension"`
	Period            json.RawMessage   `json:"period"`
	Actor             json.RawMessage   `json:"actor"`
	Action            json.RawMessage   `json:"action"`
	SecurityLabel     json.RawMessage   `json:"securityLabel"`
	Purpose           json.RawMessage   `json:"purpose"`
	DocumentType      []json.RawMessage `json:"documentType"`
	ResourceType      []json.RawMessage `json:"resourceType"`
	Code              json.RawMessage   `json:"code"`
	DataPeriod        json.RawMessage   `json:"dataPeriod"`
	Data              json.RawMessage   `json:"data"`
	Expression        json.RawMessage   `json:"expression"`
	Provision         []r5Provision     `json:"provision"`
}

// r4Provision is the R4 provision a converted R5 one becomes.
type r4Provision struct {
	ID                json.RawMessage   `json:"id,omitempty"`
	Extension         json.RawMessage   `json:"extension,omitempty"`
	ModifierExtension json.RawMessage   `json:"modifierExtension,omitempty"`
	Type              json.RawMessage   `json:"type,omitempty"`
	Period            json.RawMessage   `json:"period,omitempty"`
	Actor             json.RawMessage   `json:"actor,omitempty"`
	Action            json.RawMessage   `json:"action,omitempty"`
	SecurityLabel     json.RawMessage   `json:"securityLabel,omitempty"`
	Purpose           json.RawMessage   `json:"purpose,omitempty"`
	Class             []json.RawMessage `json:"class,omitempty"`
	Code              json.RawMessage   `json:"code,omitempty"`
	DataPeriod        json.RawMessage   `json:"dataPeriod,omitempty"`
	Data              json.RawMessage   `json:"data,omitempty"`
	Provision         []r4Provision     `json:"provision,omitempty"`
}

// r5Top is the part of an R5 Consent the conversion rewrites.
type r5Top struct {
	Status          string            `json:"status"`
	Subject         json.RawMessage   `json:"subject"`
	Date            json.RawMessage   `json:"date"`
	DateExt         json.RawMessage   `json:"_date"`
	Period          json.RawMessage   `json:"period"`
	RegulatoryBasis []codeableConcept `json:"regulatoryBasis"`
	PolicyBasis     *struct {
		URL string `json:"url"`
	} `json:"policyBasis"`
	Decision  json.RawMessage `json:"decision"`
	Provision []r5Provision   `json:"provision"`
}

// Release is the FHIR release a consent is read as.
type Release int

const (
	// ReleaseAuto reads a consent as R5 when its shape is unambiguously R5
	// (an element R4 lacks, or provision as an array), else as R4.
	ReleaseAuto Release = iota
	// ReleaseR4 reads a consent as R4 only.
	ReleaseR4
	// ReleaseR5 reads a consent as R5 only.
	ReleaseR5
)

// ReleaseOf maps the fhirVersion parameter of a FHIR media type
// ("application/fhir+json; fhirVersion=5.0") to a Release: 4.0 → R4,
// 5.0 → R5, none → auto. ok is false for another version.
func ReleaseOf(fhirVersion string) (r Release, ok bool) {
	switch {
	case fhirVersion == "":
		return ReleaseAuto, true
	case fhirVersion == "4.0" || strings.HasPrefix(fhirVersion, "4.0."):
		return ReleaseR4, true
	case fhirVersion == "5.0" || strings.HasPrefix(fhirVersion, "5.0."):
		return ReleaseR5, true
	}
	return ReleaseAuto, false
}

// isR5 reports whether valid JSON raw has the shape of an R5 Consent. It
// reads the top-level keys in one pass without allocating.
func isR5(raw []byte) bool {
	depth, inString, escaped, start := 0, false, false, 0
	for i, c := range raw {
		switch {
		case escaped:
			escaped = false
		case inString:
			if c == '\\' {
				escaped = true
			} else if c == '"' {
				inString = false
				if depth == 1 && isKey(raw[i+1:]) && r5Key(raw[start:i], raw[i+1:]) {
					return true
				}
			}
		case c == '"':
			inString, start = true, i+1
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		}
	}
	return false
}

// isKey reports whether the string that rest follows is an object key,
// i.e. a colon comes next.
func isKey(rest []byte) bool {
	rest = bytes.TrimLeft(rest, " \t\r\n")
	return len(rest) > 0 && rest[0] == ':'
}

// r5Key reports whether the top-level key, whose value follows rest's
// colon, marks an R5 consent.
func r5Key(key, rest []byte) bool {
	for _, k := range r5OnlyKeys {
		if string(key) == k {
			return true
		}
	}
	if string(key) != "provision" {
		return false
	}
	rest = bytes.TrimLeft(bytes.TrimLeft(rest, " \t\r\n")[1:], " \t\r\n")
	return len(rest) > 0 && rest[0] == '['
}

// parseR5 checks raw as an R5 Consent, converts it and reads the result as
// R4, reporting problems at their R5 paths.
func parseR5(raw []byte) (*parsed, error) {
	var errs problems
	scanKeysR5(raw, &errs)
	if len(errs) > 0 {
		return nil, errs.err()
	}
	r4, err := r5ToR4(raw, &errs)
	if err != nil || len(errs) > 0 {
		if err != nil {
			errs.add("Consent", "%s", decodeMessage(err))
		}
		return nil, errs.err()
	}
	doc, err := parseConverted(r4, 0, true)
	if doc != nil {
		doc.r5 = true
	}
	if ve, ok := err.(*ValidationError); ok {
		for i := range ve.Problems {
			ve.Problems[i].Path = r5Path(ve.Problems[i].Path)
		}
	}
	var granteeErrs problems
	grantees := r5Grantees(raw, &granteeErrs)
	if doc != nil {
		doc.grantees = grantees
	}
	if len(granteeErrs) > 0 {
		if ve, ok := err.(*ValidationError); ok {
			ve.Problems = append(ve.Problems, granteeErrs...)
		} else if err == nil {
			err = granteeErrs.err()
		}
	}
	return doc, err
}

// r5Grantees returns the forms ("Type/id", "system|value") of an R5
// consent's grantees: the parties its permissions are given to. R4 has no
// such element (the recipients are the provisions' actors), and R5 names
// the recipient there or here: read as R4, a consent that permits with
// decision permit and grantee Organization/x, and names no actor in its
// provisions, permitted everyone (a mental-health or HIV record went to
// any caller under a consent that gave it to x alone). The permits are
// read as given to the grantees (normalizeParsed); its denies keep their
// reach, so the grantees only narrow. A grantee that names no party a
// caller can be matched by (display alone, a contained one) is a problem
// at its path: leaving it out would give the permit to everyone.
func r5Grantees(raw []byte, errs *problems) []string {
	var top struct {
		Grantee []reference `json:"grantee"`
	}
	if err := json.Unmarshal(raw, &top); err != nil {
		// A grantee of another shape (an object for the list, say) read
		// as absent would give the permits to everyone.
		errs.add(decodePath("Consent", err), "%s", decodeMessage(err))
		return nil
	}
	var out []string
	for i, g := range top.Grantee {
		at := index("Consent.grantee", i)
		if strings.HasPrefix(g.Reference, "#") {
			errs.add(at+".reference", "%q points into contained resources, which are not supported", g.Reference)
			continue
		}
		before := len(*errs)
		forms := actorForms(&g, at, errs)
		if len(*errs) > before {
			continue
		}
		for _, f := range forms {
			out = appendNew(out, f)
		}
	}
	return out
}

// r5ToR4 converts an R5 Consent, whose keys have been checked, to R4 JSON.
func r5ToR4(raw []byte, errs *problems) ([]byte, error) {
	ms, err := members(raw)
	if err != nil {
		return nil, err
	}
	var top r5Top
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, err
	}
	out := make([]member, 0, len(ms)+2)
	for _, m := range ms {
		switch m.key {
		case "subject":
			out = append(out, member{"patient", m.value})
		case "date":
			out = append(out, member{"dateTime", m.value})
		case "_date":
			out = append(out, member{"_dateTime", m.value})
		case "status":
			out = append(out, member{"status", r5Status(top.Status, m.value)})
		case "resourceType", "id", "meta", "implicitRules", "language", "text", "contained",
			"extension", "modifierExtension", "identifier", "category",
			"_id", "_implicitRules", "_language", "_status":
			out = append(out, m)
		}
	}
	if rule := r5PolicyRule(top.RegulatoryBasis); rule != nil {
		out = append(out, member{"policyRule", rule})
	}
	if top.PolicyBasis != nil && top.PolicyBasis.URL != "" {
		v, _ := json.Marshal([]policyJSON{{URI: top.PolicyBasis.URL}})
		out = append(out, member{"policy", v})
	}
	if len(top.Decision) > 0 || len(top.Period) > 0 || len(top.Provision) > 0 {
		root := r4Provision{Type: top.Decision, Period: top.Period}
		root.Provision = r5Children(top.Provision, "Consent.provision", errs)
		v, err := json.Marshal(root)
		if err != nil {
			return nil, err
		}
		out = append(out, member{"provision", v})
	}
	return encodeMembers(out)
}

// r5Status maps the R5 statuses R4 lacks to R4 statuses that are not in
// force either.
func r5Status(status string, raw json.RawMessage) json.RawMessage {
	switch status {
	case "not-done":
		return json.RawMessage(`"rejected"`)
	case "unknown":
		return json.RawMessage(`"draft"`)
	}
	return raw
}

// r5PolicyRule gathers the codings of regulatoryBasis into one R4
// policyRule; nil when there are none.
func r5PolicyRule(basis []codeableConcept) json.RawMessage {
	var cc codeableConcept
	for _, b := range basis {
		cc.Coding = append(cc.Coding, b.Coding...)
	}
	if len(cc.Coding) == 0 {
		return nil
	}
	v, _ := json.Marshal(map[string][]coding{"coding": cc.Coding})
	return v
}

// r5Children converts R5 provisions to nested R4 provisions without type
// (exceptions to their parent).
func r5Children(list []r5Provision, at string, errs *problems) []r4Provision {
	var out []r4Provision
	for i, p := range list {
		pAt := index(at, i)
		if len(p.Expression) > 0 && string(p.Expression) != "null" {
			errs.add(pAt+".expression", "is a computable condition ds4p cannot evaluate; it would change what the provision covers")
		}
		q := r4Provision{
			ID: p.ID, Extension: p.Extension, ModifierExtension: p.ModifierExtension,
			Period: p.Period, Actor: p.Actor, Action: p.Action, SecurityLabel: p.SecurityLabel,
			Purpose: p.Purpose, Code: p.Code, DataPeriod: p.DataPeriod, Data: p.Data,
		}
		q.Class, q.Code = r5Classes(p)
		q.Provision = r5Children(p.Provision, pAt+".provision", errs)
		out = append(out, q)
	}
	return out
}

// untestableClass is the class an R5 provision's resourceType and
// documentType become when R4's class cannot state both: a MIME-like code
// (it contains "/"), which matches a deny whatever the item and never a
// permit (consent.rego), so a deny keeps at least its reach and a permit
// reaches nothing.
var untestableClass = json.RawMessage(`{"system":"` + mimeTypeSystem + `","code":"x-ds4p/resourceType-and-documentType"}`)

// r5Classes returns R4's class and code for an R5 provision's
// resourceType, documentType and code. R5 states them as separate
// criteria, all of which must hold, and documentType is the type of
// document or information (a LOINC document type, a MIME type, a resource
// type). Read as one class list, any entry of either matched, and a
// document type of another system (LOINC 11488-4, a consult note) was
// refused: from the upstream, such a consent became a denial of
// everything for its patient. Now:
//   - documentType alone, of resource types or MIME types: the class, as
//     before;
//   - documentType of other systems (all of them), and no code: R4's code,
//     one concept each, which the policy tests against the item's main
//     codes (its type and category among them), beside resourceType as
//     the class;
//   - both of resource types: the types in both (none in common: the
//     untestable class);
//   - anything else (a mix, MIME beside resourceType, document types
//     beside a code): the untestable class, so that a deny withholds at
//     least what it names and a permit discloses nothing.
func r5Classes(p r5Provision) ([]json.RawMessage, json.RawMessage) {
	if len(p.DocumentType) == 0 {
		return p.ResourceType, p.Code
	}
	var kinds []string
	for _, raw := range p.DocumentType {
		var c coding
		switch {
		case json.Unmarshal(raw, &c) != nil:
			kinds = append(kinds, "bad")
		case c.System == mimeTypeSystem:
			kinds = append(kinds, "mime")
		case c.System == "" || c.System == resourceTypesSystem || c.System == fhirTypesSystem:
			kinds = append(kinds, "type")
		default:
			kinds = append(kinds, "other")
		}
	}
	all := func(k string) bool {
		for _, x := range kinds {
			if x != k {
				return false
			}
		}
		return true
	}
	switch {
	case slices.Contains(kinds, "bad"):
		return append(slices.Clip(p.ResourceType), p.DocumentType...), p.Code // refused as before
	case len(p.ResourceType) == 0 && (all("type") || all("mime")):
		return p.DocumentType, p.Code // as before
	case all("other") && (len(p.Code) == 0 || string(p.Code) == "null"):
		concepts := make([]json.RawMessage, len(p.DocumentType))
		for i, raw := range p.DocumentType {
			concepts[i], _ = json.Marshal(map[string][]json.RawMessage{"coding": {raw}})
		}
		code, _ := json.Marshal(concepts)
		return p.ResourceType, code
	case all("type"):
		if common := commonTypes(p.ResourceType, p.DocumentType); len(common) > 0 {
			return common, p.Code
		}
	}
	return []json.RawMessage{untestableClass}, p.Code
}

// commonTypes returns the codings of a whose resource type b names too.
func commonTypes(a, b []json.RawMessage) []json.RawMessage {
	inB := map[string]bool{}
	for _, raw := range b {
		var c coding
		if json.Unmarshal(raw, &c) == nil {
			inB[c.Code] = true
		}
	}
	var out []json.RawMessage
	for _, raw := range a {
		var c coding
		if json.Unmarshal(raw, &c) == nil && inB[c.Code] {
			out = append(out, raw)
		}
	}
	return out
}

// r5Path maps a path in the converted R4 consent back to the R5 element.
func r5Path(p string) string {
	for _, m := range [][2]string{
		{"Consent.provision.provision[", "Consent.provision["},
		{"Consent.provision.period", "Consent.period"},
		{"Consent.provision.type", "Consent.decision"},
		{"Consent.provision", "Consent.provision"},
		{"Consent.patient", "Consent.subject"},
		{"Consent.dateTime", "Consent.date"},
		{"Consent.policyRule", "Consent.regulatoryBasis"},
		{"Consent.policy", "Consent.policyBasis"},
	} {
		if rest, ok := strings.CutPrefix(p, m[0]); ok {
			return strings.ReplaceAll(m[1]+rest, ".class[", ".resourceType|documentType[")
		}
	}
	return p
}

// asR4 returns raw in R4 shape: unchanged when it is R4, converted when it
// is R5 (nil when the conversion fails).
func asR4(raw []byte) []byte {
	if !isR5(raw) {
		return raw
	}
	var errs problems
	r4, err := r5ToR4(bytes.TrimSpace(raw), &errs)
	if err != nil {
		return nil
	}
	return r4
}
