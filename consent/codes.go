package consent

import "strings"

// Code systems a provision's codings must come from. The policy compares
// purposes, classes and actions by code alone, so a code from another system
// could collide with one of these; and a label from a system the labeller
// never assigns would match nothing, silently narrowing a deny.
const (
	actReasonSystem        = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
	observationValueSystem = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
	consentActionSystem    = "http://terminology.hl7.org/CodeSystem/consentaction"
	resourceTypesSystem    = "http://hl7.org/fhir/resource-types"
	fhirTypesSystem        = "http://hl7.org/fhir/fhir-types" // R5's name for resource types
	mimeTypeSystem         = "urn:ietf:bcp:13"
)

// legacySystems maps older names of the v3 code systems (FHIR DSTU2/STU3 URLs
// and OIDs) to the current ones, so a policy compares one spelling.
var legacySystems = map[string]string{
	"http://hl7.org/fhir/v3/Confidentiality":  confidentialitySystem,
	"urn:oid:2.16.840.1.113883.5.25":          confidentialitySystem,
	"http://hl7.org/fhir/v3/ActCode":          actCodeSystem,
	"urn:oid:2.16.840.1.113883.5.4":           actCodeSystem,
	"http://hl7.org/fhir/v3/ActReason":        actReasonSystem,
	"urn:oid:2.16.840.1.113883.5.8":           actReasonSystem,
	"http://hl7.org/fhir/v3/ObservationValue": observationValueSystem,
	"urn:oid:2.16.840.1.113883.5.1063":        observationValueSystem,
	// 2.16.840.1.113883.5.83 is ObservationInterpretation's OID; it was
	// mapped here before, and labels accepts it too, so both still agree.
	"urn:oid:2.16.840.1.113883.5.83":    observationValueSystem,
	"http://hl7.org/fhir/consentaction": consentActionSystem,
}

// currentSystem returns the current name of a code system.
func currentSystem(system string) string {
	if current, ok := legacySystems[system]; ok {
		return current
	}
	return system
}

// labelSystems are the systems of the HL7 Healthcare Privacy and Security
// Classification System that security labels are drawn from: confidentiality,
// sensitivity/policy/obligation/refrain (ActCode), purpose of use (ActReason)
// and integrity (ObservationValue).
var labelSystems = map[string]bool{
	confidentialitySystem:  true,
	actCodeSystem:          true,
	actReasonSystem:        true,
	observationValueSystem: true,
}

// consentActions is the R4 consent-action value set.
var consentActions = map[string]bool{
	"collect": true, "access": true, "use": true, "disclose": true, "correct": true,
}

// purposeCodes checks that each purpose of use is a v3-ActReason coding and
// returns the codes.
func purposeCodes(list []coding, at string, errs *problems) []string {
	out := []string{}
	for i, c := range list {
		cAt := index(at, i)
		switch {
		case c.Code == "":
			errs.add(cAt+".code", "is required")
		case currentSystem(c.System) != actReasonSystem:
			errs.add(cAt+".system", "%q is not %s: purposes of use are v3-ActReason codes", c.System, actReasonSystem)
		default:
			out = append(out, c.Code)
		}
	}
	return out
}

// labelCodes checks that each security label comes from a label code system
// and returns them as "system|code" with legacy systems renamed.
func labelCodes(list []coding, at string, errs *problems) []string {
	out := []string{}
	for i, c := range list {
		cAt := index(at, i)
		system := currentSystem(c.System)
		switch {
		case c.System == "" || c.Code == "":
			errs.add(cAt, "needs both system and code")
		case !labelSystems[system]:
			errs.add(cAt+".system", "%q is not a security label system (v3-Confidentiality, v3-ActCode, v3-ActReason, v3-ObservationValue)", c.System)
		default:
			out = append(out, system+"|"+c.Code)
		}
	}
	return out
}

// classCodes checks each class: a resource type (system resource-types,
// fhir-types, or none) that FHIR R4 defines, or a MIME type (urn:ietf:bcp:13).
// It returns the codes.
func classCodes(list []coding, at string, errs *problems) []string {
	out := []string{}
	for i, c := range list {
		cAt := index(at, i)
		switch {
		case c.Code == "":
			errs.add(cAt+".code", "is required")
		case c.System == mimeTypeSystem:
			out = append(out, c.Code)
		case c.System != "" && c.System != resourceTypesSystem && c.System != fhirTypesSystem:
			errs.add(cAt+".system", "%q is not %s or %s", c.System, resourceTypesSystem, mimeTypeSystem)
		case !resourceTypes[c.Code]:
			errs.add(cAt+".code", "%q is not an R4 resource type", c.Code)
		default:
			out = append(out, c.Code)
		}
	}
	return out
}

// actionCodes checks that each action is a consentaction code and returns the
// codes.
func actionCodes(list []coding, at string, errs *problems) []string {
	out := []string{}
	for i, c := range list {
		cAt := index(at, i)
		switch {
		case c.Code == "":
			errs.add(cAt+".code", "is required")
		case currentSystem(c.System) != consentActionSystem:
			errs.add(cAt+".system", "%q is not %s", c.System, consentActionSystem)
		case !consentActions[c.Code]:
			errs.add(cAt+".code", "%q is not one of collect, access, use, disclose, correct", c.Code)
		default:
			out = append(out, c.Code)
		}
	}
	return out
}

// clinicalSystems are the clinical code systems a consent's provision.code
// most often names, by canonical URL, with their OIDs and their URLs
// without scheme and "www." (compared in any case): the spellings the
// labeller reads as the same system (labels' codeSystem, unexported).
var clinicalSystems = []struct {
	url     string
	oids    []string
	aliases []string
}{
	{"http://hl7.org/fhir/sid/icd-10-cm", []string{"2.16.840.1.113883.6.90"}, []string{"hl7.org/fhir/sid/icd-10-cm"}},
	{"http://hl7.org/fhir/sid/icd-10", []string{"2.16.840.1.113883.6.3"}, []string{"hl7.org/fhir/sid/icd-10"}},
	{"http://hl7.org/fhir/sid/icd-9-cm", []string{"2.16.840.1.113883.6.103"}, []string{"hl7.org/fhir/sid/icd-9-cm"}},
	{"http://snomed.info/sct", []string{"2.16.840.1.113883.6.96"}, []string{"snomed.info/sct"}},
	{"http://loinc.org", []string{"2.16.840.1.113883.6.1"}, []string{"loinc.org"}},
	{"http://www.nlm.nih.gov/research/umls/rxnorm", []string{"2.16.840.1.113883.6.88"}, []string{"nlm.nih.gov/research/umls/rxnorm"}},
	{"http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", []string{"2.16.840.1.113883.6.285", "2.16.840.1.113883.6.14"},
		[]string{"cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", "cms.gov/medicare/coding-billing/healthcare-common-procedure-system"}},
}

// clinicalSystem returns the canonical URL of a known clinical code system
// (clinicalSystems) written as its OID (with or without urn:oid:), or as its
// URL with https, "www.", another case, trailing slashes, white space or a
// "|version" suffix (SNOMED CT also by an edition URI,
// http://snomed.info/sct/731000124108); any other system unchanged.
func clinicalSystem(system string) string {
	t := strings.TrimSpace(system)
	if i := strings.IndexByte(t, '|'); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	if len(t) >= len("urn:oid:") && strings.EqualFold(t[:len("urn:oid:")], "urn:oid:") {
		t = t[len("urn:oid:"):]
	}
	if t != "" && '0' <= t[0] && t[0] <= '9' {
		for _, cs := range clinicalSystems {
			for _, oid := range cs.oids {
				if t == oid {
					return cs.url
				}
			}
		}
		return system
	}
	lower := strings.ToLower(t)
	switch {
	case strings.HasPrefix(lower, "https://"):
		t = t[len("https://"):]
	case strings.HasPrefix(lower, "http://"):
		t = t[len("http://"):]
	default:
		return system
	}
	if strings.HasPrefix(strings.ToLower(t), "www.") {
		t = t[len("www."):]
	}
	t = strings.TrimRight(t, "/")
	for _, cs := range clinicalSystems {
		for _, a := range cs.aliases {
			if strings.EqualFold(t, a) {
				return cs.url
			}
		}
	}
	if rest, ok := strings.CutPrefix(strings.ToLower(t), "snomed.info/sct/"); ok && rest != "" && '0' <= rest[0] && rest[0] <= '9' {
		return "http://snomed.info/sct"
	}
	return system
}
