package consent

import "github.com/ds4p/ds4p/labels"

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
// and returns them as "system|code" with legacy systems renamed. In a deny,
// a label that is no known label as written but names one the labeller
// reads it as (SUD filed under v3-ActReason, psy for PSY:
// labels.KnownLabel) is also given as that one. A written consent refuses
// such codes (checkVocabulary), but an upstream one is read as the EHR
// wrote it, and as written its deny matched no data and withheld nothing.
// A permit keeps the label as written.
func labelCodes(list []coding, typ, at string, errs *problems) []string {
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
			if typ != "deny" || labels.KnownCode(system, c.Code) {
				continue
			}
			if s, code, ok := labels.KnownLabel(system, c.Code); ok {
				out = append(out, s+"|"+code)
			}
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
