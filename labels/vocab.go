package labels

import "slices"

// Code systems of security labels (FHIR R4 meta.security, HL7 DS4P IG).
const (
	// SystemConfidentiality holds the confidentiality codes U L M N R V.
	SystemConfidentiality = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
	// SystemActCode holds sensitivity (SUD, HIV ...), policy (42CFRPart2),
	// obligation (REDACT ...) and refrain (NORDSCLCD ...) codes.
	SystemActCode = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
	// SystemObservationValue holds integrity and alteration codes.
	SystemObservationValue = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
	// SystemActReason holds purpose-of-use codes.
	SystemActReason = "http://terminology.hl7.org/CodeSystem/v3-ActReason"

	// LegacyConfidentiality is the pre-THO URL of SystemConfidentiality,
	// still sent by some servers; it is read as SystemConfidentiality.
	LegacyConfidentiality = "http://hl7.org/fhir/v3/Confidentiality"
	// LegacyActCode is the pre-THO URL of SystemActCode.
	LegacyActCode = "http://hl7.org/fhir/v3/ActCode"
	// LegacyObservationValue is the pre-THO URL of SystemObservationValue.
	LegacyObservationValue = "http://hl7.org/fhir/v3/ObservationValue"
	// LegacyActReason is the pre-THO URL of SystemActReason.
	LegacyActReason = "http://hl7.org/fhir/v3/ActReason"

	// OIDConfidentiality is the OID of SystemConfidentiality, as CDA and
	// some FHIR servers name it; it is read as SystemConfidentiality.
	OIDConfidentiality = "urn:oid:2.16.840.1.113883.5.25"
	// OIDActCode is the OID of SystemActCode.
	OIDActCode = "urn:oid:2.16.840.1.113883.5.4"
	// OIDObservationValue is the OID of SystemObservationValue.
	OIDObservationValue = "urn:oid:2.16.840.1.113883.5.1063"
	// OIDActReason is the OID of SystemActReason.
	OIDActReason = "urn:oid:2.16.840.1.113883.5.8"
	// oidObservationInterpretation is the OID of v3-ObservationInterpretation,
	// which package consent reads as v3-ObservationValue (its legacySystems
	// table): labels reads it so too, so that a consent naming a label by
	// it matches the label a resource carries by it.
	oidObservationInterpretation = "urn:oid:2.16.840.1.113883.5.83"
)

// Code systems of clinical codes used by the default rules.
const (
	SystemICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
	SystemICD10   = "http://hl7.org/fhir/sid/icd-10"
	SystemSNOMED  = "http://snomed.info/sct"
	SystemLOINC   = "http://loinc.org"
	SystemRxNorm  = "http://www.nlm.nih.gov/research/umls/rxnorm"
)

// DS4P IG extensions written on the labels the Labeller adds.
const (
	// ExtBasis says which policy a label comes from (valueCoding).
	ExtBasis = "http://hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-sec-label-basis"
	// ExtClassifier says who assigned a label (valueReference).
	ExtClassifier = "http://hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-sec-label-classifier"
	// ExtInline is an element-level (inline) label (valueCoding).
	ExtInline = "http://hl7.org/fhir/uv/security-label-ds4p/StructureDefinition/extension-inline-sec-label"
	// Classifier is the display of the classifier reference on labels ds4p adds.
	Classifier = "ds4p labeller"
)

// Labels used by the default rules and by policy.
var (
	// Restricted is confidentiality R.
	Restricted = Label{System: SystemConfidentiality, Code: "R"}
	// SUD is the substance use disorder information sensitivity.
	SUD = Label{System: SystemActCode, Code: "SUD"}
	// Part2Policy is the 42 CFR Part 2 policy label.
	Part2Policy = Label{System: SystemActCode, Code: "42CFRPart2"}
	// NoRedisclosure is the refrain NORDSCLCD: no redisclosure without consent.
	NoRedisclosure = Label{System: SystemActCode, Code: "NORDSCLCD"}
	// ProcessInline is the obligation PROCESSINLINELABEL.
	ProcessInline = Label{System: SystemActCode, Code: "PROCESSINLINELABEL"}
)

// Part2Labels are the labels a resource from a Part 2 program gets.
func Part2Labels() Set { return NewSet(Part2Policy, SUD, Restricted, NoRedisclosure) }

// part2Labels is Part2Labels shared by the labeller, which never modifies a
// Set in place (capacity clipped, so an append copies).
var part2Labels = slices.Clip(Part2Labels())

// obligationCodes and refrainCodes are ActCode codes that are not a
// sensitivity or a policy: they stay out of a Bundle's high-water mark, and
// obligations do not propagate from one resource to another.
var (
	obligationCodes = map[string]bool{"REDACT": true, "MASK": true, "DEID": true, "ENCRYPT": true, "PROCESSINLINELABEL": true}
	refrainCodes    = map[string]bool{"NORDSCLCD": true, "NODSCLCD": true, "NOREUSE": true, "NOAUTH": true, "NOCOLLECT": true, "NOINTEGRATE": true, "NOLIST": true, "NOMOU": true, "NOPERSIST": true, "NORELINK": true}
)

// NormalizeSystem maps a legacy security label system URL or the OID of a
// label system (urn:oid:2.16.840.1.113883.5.25, .5.4, .5.1063, .5.8) to its
// current terminology.hl7.org form and returns other systems unchanged. A
// label whose system went unrecognised would read as no label at all, and
// its resource as ordinary.
func NormalizeSystem(system string) string {
	switch system {
	case LegacyConfidentiality, OIDConfidentiality:
		return SystemConfidentiality
	case LegacyActCode, OIDActCode:
		return SystemActCode
	case LegacyObservationValue, OIDObservationValue, oidObservationInterpretation:
		return SystemObservationValue
	case LegacyActReason, OIDActReason:
		return SystemActReason
	}
	return system
}

// confidentialityOrder lists the confidentiality codes from least to most
// restrictive.
const confidentialityOrder = "ULMNRV"

// ConfidentialityRank orders confidentiality codes: U 0, L 1, M 2, N 3, R 4,
// V 5. Any other code ranks -1.
func ConfidentialityRank(code string) int {
	if len(code) != 1 {
		return -1
	}
	for k := range len(confidentialityOrder) {
		if confidentialityOrder[k] == code[0] {
			return k
		}
	}
	return -1
}

// isConfidentiality reports whether l is one of the six known
// confidentiality labels.
func isConfidentiality(l Label) bool {
	return l.System == SystemConfidentiality && ConfidentialityRank(l.Code) >= 0
}
