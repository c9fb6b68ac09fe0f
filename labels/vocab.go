package labels

import (
	"bytes"
	"slices"
	"strings"
)

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
	SystemHCPCS   = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
	// SystemICD9CM is ICD-9-CM, in which diagnoses recorded before October
	// 2015 are still coded.
	SystemICD9CM = "http://hl7.org/fhir/sid/icd-9-cm"
	// SystemNUCC is the NUCC health care provider taxonomy.
	SystemNUCC = "http://nucc.org/provider-taxonomy"
	// SystemNDC is the FDA National Drug Code, whose codes are compared
	// in the 11-digit 5-4-2 form (ndcKey).
	SystemNDC = "http://hl7.org/fhir/sid/ndc"
	// SystemATC is the WHO ATC classification; HL7 Germany's basis
	// profiles name it http://fhir.de/CodeSystem/bfarm/atc (before 2020
	// .../dimdi/atc), which codeSystem reads as this URL.
	SystemATC = "http://www.whocc.no/atc"
	// SystemICD10PCS is ICD-10-PCS, the inpatient procedure code system
	// (CMS), whose codes are seven upper-case letters and digits.
	SystemICD10PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
)

// thoSystems are the HL7 Terminology (THO) code systems the default rules
// name, each with the URL it had before THO (FHIR DSTU2 and STU3 data
// still carry it) and its OID, if any: a coding under either, or under
// the THO URL with https, another case or a trailing slash, matches the
// rules of the THO URL (QA round 31: a v3 RoleCode RHAT under
// http://hl7.org/fhir/v3/RoleCode labelled nothing).
var thoSystems = []struct{ url, legacy, oid string }{
	{SystemActCode, LegacyActCode, OIDActCode[len("urn:oid:"):]},
	{"http://terminology.hl7.org/CodeSystem/v3-RoleCode", "http://hl7.org/fhir/v3/RoleCode", "2.16.840.1.113883.5.111"},
	{"http://terminology.hl7.org/CodeSystem/v2-0074", "http://hl7.org/fhir/v2/0074", "2.16.840.1.113883.12.74"},
	{"http://terminology.hl7.org/CodeSystem/service-type", "http://hl7.org/fhir/service-type", ""},
	{"http://terminology.hl7.org/CodeSystem/service-category", "http://hl7.org/fhir/service-category", ""},
	{"http://terminology.hl7.org/CodeSystem/episodeofcare-type", "http://hl7.org/fhir/episodeofcare-type", ""},
	{"http://terminology.hl7.org/CodeSystem/admit-source", "http://hl7.org/fhir/admit-source", ""},
	{"http://terminology.hl7.org/CodeSystem/discharge-disposition", "http://hl7.org/fhir/discharge-disposition", ""},
}

// Object identifiers of the clinical code systems, as CDA-derived data
// names them; a coding with one matches the rules of the system's URL.
const (
	OIDICD10CM = "urn:oid:2.16.840.1.113883.6.90"
	OIDICD10   = "urn:oid:2.16.840.1.113883.6.3"
	OIDSNOMED  = "urn:oid:2.16.840.1.113883.6.96"
	OIDLOINC   = "urn:oid:2.16.840.1.113883.6.1"
	OIDRxNorm  = "urn:oid:2.16.840.1.113883.6.88"
	// OIDHCPCS is HCPCS (all levels); HCPCS Level II is also named by
	// 2.16.840.1.113883.6.14, which codeSystem reads as HCPCS too.
	OIDHCPCS  = "urn:oid:2.16.840.1.113883.6.285"
	OIDICD9CM = "urn:oid:2.16.840.1.113883.6.103"
	OIDNDC    = "urn:oid:2.16.840.1.113883.6.69"
	OIDATC    = "urn:oid:2.16.840.1.113883.6.73"
	// OIDICD10PCS is ICD-10-PCS (QA round 39: a detoxification coded
	// under it went out ordinary).
	OIDICD10PCS = "urn:oid:2.16.840.1.113883.6.4"
)

// The canonical clinical system URLs as bytes, returned by codeSystem.
var (
	bICD10CM  = []byte(SystemICD10CM)
	bICD10    = []byte(SystemICD10)
	bSNOMED   = []byte(SystemSNOMED)
	bLOINC    = []byte(SystemLOINC)
	bRxNorm   = []byte(SystemRxNorm)
	bHCPCS    = []byte(SystemHCPCS)
	bICD9CM   = []byte(SystemICD9CM)
	bNDC      = []byte(SystemNDC)
	bATC      = []byte(SystemATC)
	bICD10PCS = []byte(SystemICD10PCS)
)

// codeSystem returns the canonical spelling of a coding's or a rule's
// system: white space around it is trimmed, and a known clinical system
// (ICD-10-CM, ICD-10, ICD-9-CM, SNOMED CT, LOINC, RxNorm, HCPCS, NDC,
// ATC) written by its OID (with or without urn:oid:), or by its URL with
// https, "www.", another case, trailing slashes or a "|version" suffix
// (and SNOMED CT by an edition URI, http://snomed.info/sct/731000124108),
// is that system's canonical URL. HCPCS is also known by CMS's current
// page (https://www.cms.gov/medicare/coding-billing/healthcare-common-procedure-system),
// which SHIFT's sample data uses, and ATC by HL7 Germany's
// http://fhir.de/CodeSystem/bfarm/atc and .../dimdi/atc. Other systems are
// returned trimmed. It does not allocate; the result may alias s or a
// shared slice and must not be modified.
func codeSystem(s []byte) []byte {
	s = bytes.TrimSpace(s)
	switch string(s) {
	case SystemICD10CM, SystemICD10, SystemSNOMED, SystemLOINC, SystemRxNorm, SystemHCPCS, SystemICD9CM, SystemNDC, SystemATC:
		return s
	}
	t := s
	if i := bytes.IndexByte(t, '|'); i >= 0 { // a version suffix
		t = bytes.TrimSpace(t[:i])
	}
	if hasPrefixFold(t, "urn:oid:") { // a URN's scheme and namespace are case-insensitive (RFC 8141)
		t = t[len("urn:oid:"):]
	}
	if len(t) > 0 && '0' <= t[0] && t[0] <= '9' { // an OID
		for _, v := range systemOIDs {
			if string(t) == v.oid {
				return v.url
			}
		}
		return s
	}
	switch {
	case hasPrefixFold(t, "https://"):
		t = t[len("https://"):]
	case hasPrefixFold(t, "http://"):
		t = t[len("http://"):]
	default:
		return s
	}
	if hasPrefixFold(t, "www.") {
		t = t[len("www."):]
	}
	for len(t) > 0 && t[len(t)-1] == '/' {
		t = t[:len(t)-1]
	}
	// Most systems are none of these: their length tells them apart.
	if systemAliasLens&(1<<min(len(t), 63)) != 0 {
		for _, v := range systemAliases {
			if len(t) == len(v.alias) && hasPrefixFold(t, v.alias) {
				return v.url
			}
		}
	}
	// A SNOMED CT edition or version URI names SNOMED CT.
	if hasPrefixFold(t, "snomed.info/sct/") && len(t) > len("snomed.info/sct/") && '0' <= t[len("snomed.info/sct/")] && t[len("snomed.info/sct/")] <= '9' {
		return bSNOMED
	}
	return s
}

// CodeSystem is codeSystem for a string: a known clinical system in any of
// the spellings the labeller reads as it is its canonical URL, any other
// system trimmed. A consent's provision codes (package consent) and an
// item's codings (the proxy's item facts) are compared under it, so that
// a consent names a code as the labeller reads it.
func CodeSystem(s string) string {
	cs := codeSystem([]byte(s))
	if string(cs) == s {
		return s
	}
	return string(cs)
}

// CodeKey returns a coding's system and code as the labeller compares them
// with its rules: the system as CodeSystem spells it, the code trimmed and,
// for a known clinical system, keyed: ICD-10, ICD-10-CM and ICD-9-CM
// without dots in upper case, NDC in the 11-digit 5-4-2 form without
// hyphens (ten digits without hyphens stay as they are: their layout is
// unknown), SNOMED CT, LOINC, RxNorm, HCPCS and ATC in upper case. A
// consent's provision codes and an item's codings compared under it name
// the same code in any of those spellings.
func CodeKey(system, code string) (string, string) {
	sys := CodeSystem(system)
	if sys == SystemICD9CM {
		// ICD-9-CM's dot tells a procedure (Volume 3, NN.NN) from a
		// diagnosis (NNN.NN, VNN.NN, ENNN.N): 30.39 and 303.9 are two
		// codes with one undotted key, and a permit for one reached the
		// other (QA round 33, area G). A code without a dot is read as
		// a diagnosis.
		return sys, icd9Key(strings.ToUpper(strings.TrimSpace(code)))
	}
	k := matchKey(nil, []byte(code), codeMode(sys))
	if string(k) == code {
		return sys, code
	}
	return sys, string(k)
}

// icd9Key writes the ICD-9-CM code c (upper case, trimmed) with its dot:
// as written when it has one, else after the third character (the
// fourth of an E code), as a diagnosis is written.
func icd9Key(c string) string {
	if strings.Contains(c, ".") {
		return c
	}
	n := 3
	if strings.HasPrefix(c, "E") {
		n = 4
	}
	if len(c) > n {
		return c[:n] + "." + c[n:]
	}
	return c
}

// systemOIDs are the OIDs (without urn:oid:) codeSystem knows, and
// systemAliases the URLs, without scheme and "www.", compared in any case,
// with systemAliasLens the set of their lengths. (A switch on string(t)
// with non-constant cases would allocate.)
type (
	systemOID struct {
		oid string
		url []byte
	}
	systemAlias struct {
		alias string
		url   []byte
	}
)

var (
	systemOIDs = func() []systemOID {
		out := []systemOID{
			{OIDICD10CM[len("urn:oid:"):], bICD10CM}, {OIDICD10[len("urn:oid:"):], bICD10}, {OIDICD9CM[len("urn:oid:"):], bICD9CM},
			{OIDSNOMED[len("urn:oid:"):], bSNOMED}, {OIDLOINC[len("urn:oid:"):], bLOINC}, {OIDRxNorm[len("urn:oid:"):], bRxNorm},
			{OIDHCPCS[len("urn:oid:"):], bHCPCS}, {"2.16.840.1.113883.6.14", bHCPCS},
			{"2.16.840.1.113883.6.101", []byte(SystemNUCC)},
			{OIDNDC[len("urn:oid:"):], bNDC}, {OIDATC[len("urn:oid:"):], bATC},
			{OIDICD10PCS[len("urn:oid:"):], bICD10PCS},
		}
		for _, c := range thoSystems {
			if c.oid != "" {
				out = append(out, systemOID{c.oid, []byte(c.url)})
			}
		}
		return out
	}()
	systemAliases = func() []systemAlias {
		out := []systemAlias{
			{"hl7.org/fhir/sid/icd-10-cm", bICD10CM}, {"hl7.org/fhir/sid/icd-10", bICD10}, {"hl7.org/fhir/sid/icd-9-cm", bICD9CM},
			{"snomed.info/sct", bSNOMED}, {"loinc.org", bLOINC}, {"nlm.nih.gov/research/umls/rxnorm", bRxNorm},
			{"cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", bHCPCS},
			{"cms.gov/medicare/coding-billing/healthcare-common-procedure-system", bHCPCS},
			{"cms.gov/Medicare/Coding/ICD10", bICD10PCS},
			// The spelling OMOP-to-FHIR mappers and many feeds write, after
			// ICD-10-CM's (QA round 39: an inpatient detoxification coded
			// under it went out ordinary).
			{"hl7.org/fhir/sid/icd-10-pcs", bICD10PCS},
			{"nucc.org/provider-taxonomy", []byte(SystemNUCC)},
			{"hl7.org/fhir/sid/ndc", bNDC}, {"nlm.nih.gov/research/umls/ndc", bNDC}, // the latter beside RxNorm's URL in some feeds
			{"whocc.no/atc", bATC}, {"fhir.de/CodeSystem/bfarm/atc", bATC}, {"fhir.de/CodeSystem/dimdi/atc", bATC},
		}
		for _, c := range thoSystems {
			url := []byte(c.url)
			out = append(out, systemAlias{strings.TrimPrefix(c.url, "http://"), url}, systemAlias{strings.TrimPrefix(c.legacy, "http://"), url})
		}
		return out
	}()
	systemAliasLens = func() uint64 {
		var m uint64
		for _, v := range systemAliases {
			m |= 1 << min(len(v.alias), 63) // bit 63: 63 bytes or more
		}
		return m
	}()
)

// hasPrefixFold is hasPrefix ignoring ASCII case, for bytes or a string.
func hasPrefixFold[T ~[]byte | ~string](b T, p string) bool {
	if len(b) < len(p) {
		return false
	}
	for k := range len(p) {
		if lowerASCII(b[k]) != lowerASCII(p[k]) {
			return false
		}
	}
	return true
}

// lowerASCII returns c in lower case when it is an ASCII upper-case letter.
func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// hasPrefix is bytes.HasPrefix for a string prefix, without converting it
// to a slice (which would escape, and allocate, through bytes.TrimPrefix).
func hasPrefix(b []byte, p string) bool { return len(b) >= len(p) && string(b[:len(p)]) == p }

// keyMode says how the codes of a system are compared (matchKey).
type keyMode uint8

const (
	keyExact keyMode = iota // as written (after the trim): a local system's codes may differ by case
	keyUpper                // in upper case: SNOMED CT, LOINC, RxNorm, HCPCS and ATC codes have no lower-case letters
	keyICD                  // without dots, in upper case: ICD-10, ICD-10-CM and ICD-9-CM
	keyNDC                  // NDC: the 11-digit 5-4-2 form without hyphens (ndcKey)
)

// codeMode returns how the codes of the canonical system s are compared.
func codeMode(s string) keyMode {
	switch s {
	case SystemICD10CM, SystemICD10, SystemICD9CM:
		return keyICD
	case SystemSNOMED, SystemLOINC, SystemRxNorm, SystemHCPCS, SystemNUCC, SystemATC, SystemICD10PCS:
		return keyUpper
	case SystemNDC:
		return keyNDC
	}
	return keyExact
}

// ndcWidths are the widths of an NDC's labeler, product and package
// segments in the 11-digit (5-4-2) form.
var ndcWidths = [3]int{5, 4, 2}

// ndcKey returns the NDC c as rules and codings are compared: the 11-digit
// HIPAA form (5-4-2) without hyphens, "49702025837" for 49702-258-37,
// 49702-0258-37 and 49702025837. A hyphenated code of 10 digits (4-4-2,
// 5-3-2 or 5-4-1) or 11 (5-4-2) has each segment padded with zeros to its
// width, appended to dst; 11 digits are c itself. Ten digits without
// hyphens could be any of the three 10-digit layouts: c itself is
// returned, and ndcPad spells its three readings. The FDA's 12-digit
// form (6-4-2; FDA final rule of 5 March 2026, 91 FR 10749) writes each
// existing NDC with leading zeros to those widths, which is its 11-digit
// form after one more zero: twelve digits that start with a zero, and a
// hyphenated 6-4-2 whose labeler starts with one, are that 11-digit form
// (a 12-digit NDC of a 6-digit labeler code starts with no zero). Without
// that, a dispense of buprenorphine coded 012496-1202-03 went out as
// ordinary (QA round 34, area C). Anything else is no NDC and is returned
// as written (c). c is trimmed already.
func ndcKey(dst, c []byte) []byte {
	if bytes.IndexByte(c, '-') < 0 {
		if len(c) == 12 && c[0] == '0' && allDigits(c) {
			return c[1:]
		}
		return c
	}
	var seg [3][]byte
	rest, n := c, 0
	for n < 3 {
		i := bytes.IndexByte(rest, '-')
		if i < 0 {
			seg[n], rest = rest, nil
			n++
			break
		}
		seg[n], rest = rest[:i], rest[i+1:]
		n++
	}
	if n != 3 || rest != nil {
		return c
	}
	if len(seg[0]) == 6 && seg[0][0] == '0' && len(seg[1]) == 4 && len(seg[2]) == 2 {
		seg[0] = seg[0][1:] // 6-4-2: the 12-digit form
	}
	total := 0
	for k, s := range seg {
		if len(s) == 0 || len(s) > ndcWidths[k] || !allDigits(s) {
			return c
		}
		total += len(s)
	}
	if total != 10 && total != 11 {
		return c
	}
	for k, s := range seg {
		for range ndcWidths[k] - len(s) {
			dst = append(dst, '0')
		}
		dst = append(dst, s...)
	}
	return dst
}

// ndcPlain10 reports whether key is ten digits: an NDC without hyphens
// whose layout is unknown.
func ndcPlain10(key []byte) bool { return len(key) == 10 && allDigits(key) }

// ndcPad appends to dst the 11-digit form of the 10-digit NDC d read in
// layout k: 0 as 4-4-2, 1 as 5-3-2, 2 as 5-4-1.
func ndcPad(dst, d []byte, k int) []byte {
	at := [3]int{0, 5, 9}[k] // where the missing zero goes
	dst = append(dst, d[:at]...)
	dst = append(dst, '0')
	return append(dst, d[at:]...)
}

// ndcShaped reports whether key, as ndcKey spells it, is an NDC: eleven
// digits, or ten (a code written without hyphens).
func ndcShaped(key []byte) bool { return (len(key) == 11 || len(key) == 10) && allDigits(key) }

// allDigits reports whether b holds ASCII digits only.
func allDigits(b []byte) bool {
	for _, ch := range b {
		if ch < '0' || '9' < ch {
			return false
		}
	}
	return true
}

// upperKey returns c in upper case: c itself when it holds no lower-case
// ASCII letter, else its upper-case copy appended to dst. c is trimmed
// already.
func upperKey(dst, c []byte) []byte {
	lower := false
	for _, ch := range c {
		if 'a' <= ch && ch <= 'z' {
			lower = true
			break
		}
	}
	if !lower {
		return c
	}
	for _, ch := range c {
		if 'a' <= ch && ch <= 'z' {
			ch -= 'a' - 'A'
		}
		dst = append(dst, ch)
	}
	return dst
}

// icdKey appends to dst the ICD-10 code c as rules and codings are
// compared: without dots, in upper case ("f11.20" and "F1120" are both
// "F1120"). c is trimmed already.
func icdKey(dst, c []byte) []byte {
	for _, ch := range c {
		switch {
		case ch == '.':
			continue
		case 'a' <= ch && ch <= 'z':
			ch -= 'a' - 'A'
		}
		dst = append(dst, ch)
	}
	return dst
}

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
// current terminology.hl7.org form and returns other systems unchanged. So
// does it for another spelling of one of them that a FHIR server accepts
// and an EHR writes: white space around it, https, "www.", another case,
// trailing slashes, a "|version" suffix, an OID without urn:oid:. A label
// whose system went unrecognised would read as no label at all, and its
// resource as ordinary. It does not allocate.
func NormalizeSystem(system string) string {
	switch system {
	case SystemConfidentiality, SystemActCode, SystemObservationValue, SystemActReason, "":
		return system
	case LegacyConfidentiality, OIDConfidentiality:
		return SystemConfidentiality
	case LegacyActCode, OIDActCode:
		return SystemActCode
	case LegacyObservationValue, OIDObservationValue, oidObservationInterpretation:
		return SystemObservationValue
	case LegacyActReason, OIDActReason:
		return SystemActReason
	}
	return labelSystemSpelling(system)
}

// labelSystemSpellings are the label systems' URLs without scheme and
// "www." (compared in any case) and their bare OIDs, for
// labelSystemSpelling.
var labelSystemSpellings = []struct {
	spellings []string
	system    string
}{
	{[]string{"terminology.hl7.org/CodeSystem/v3-Confidentiality", "hl7.org/fhir/v3/Confidentiality", "2.16.840.1.113883.5.25"}, SystemConfidentiality},
	{[]string{"terminology.hl7.org/CodeSystem/v3-ActCode", "hl7.org/fhir/v3/ActCode", "2.16.840.1.113883.5.4"}, SystemActCode},
	{[]string{"terminology.hl7.org/CodeSystem/v3-ObservationValue", "hl7.org/fhir/v3/ObservationValue", "2.16.840.1.113883.5.1063", "2.16.840.1.113883.5.83"}, SystemObservationValue},
	{[]string{"terminology.hl7.org/CodeSystem/v3-ActReason", "hl7.org/fhir/v3/ActReason", "2.16.840.1.113883.5.8"}, SystemActReason},
}

// labelSystemSpelling is NormalizeSystem for a system that is none of the
// label systems' usual spellings: "" when it is only white space.
func labelSystemSpelling(system string) string {
	t := strings.TrimSpace(system)
	if i := strings.IndexByte(t, '|'); i >= 0 { // a version suffix
		t = strings.TrimSpace(t[:i])
	}
	if t == "" {
		return t
	}
	switch {
	case hasPrefixFold(t, "urn:oid:"):
		t = t[len("urn:oid:"):]
	case hasPrefixFold(t, "https://"):
		t = t[len("https://"):]
	case hasPrefixFold(t, "http://"):
		t = t[len("http://"):]
	}
	if hasPrefixFold(t, "www.") {
		t = t[len("www."):]
	}
	t = strings.TrimRight(t, "/")
	for _, v := range labelSystemSpellings {
		for _, sp := range v.spellings {
			if len(t) == len(sp) && hasPrefixFold(t, sp) {
				return v.system
			}
		}
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
