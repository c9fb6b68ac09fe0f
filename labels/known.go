package labels

import (
	"iter"
	"maps"
	"strings"
)

// The HL7 vocabulary of security labels and purposes of use that ds4p
// recognises (HL7 Terminology, v3 code systems, 2024 releases). A consent
// provision or a rule that names a code outside it would match no label a
// FHIR server or the labeller writes, so a mistyped code (MHX for MH, sud for
// SUD) is an error where it is entered rather than a deny that silently
// matches nothing.

// actCodeLabels are the v3-ActCode codes that are security labels or consent
// policies: the information sensitivity policies (value set
// v3-InformationSensitivityPolicy), privacy laws (v3-ActPrivacyLaw), consent
// directives (v3-ActConsentDirective), compartments, trust policies,
// obligations (v3-ObligationPolicy), refrains (v3-RefrainPolicy) and
// security policies (v3-SecurityPolicy).
var actCodeLabels = codeSet(
	// Information sensitivity: act, entity and role policies.
	"ETH", "GDIS", "HIV", "MST", "SCA", "SDV", "SEX", "SPI", "BH", "COGN",
	"DVD", "EMOTDIS", "MH", "PSY", "PSYTHPN", "SUD", "ETHUD", "OPIOIDUD",
	"STD", "TBOO", "VIO", "IDS", "SICKLE", "PREGNANT", "VIP",
	"DEMO", "DOB", "GENDER", "LIVARG", "MARST", "PATLOC", "RACE", "REL",
	"B", "EMPL", "LOCIS", "SSP", "ADOL", "CEL", "DIA", "DRGIS", "EMP", "PDS",
	"PHY", "PRS",
	// Privacy laws.
	"42CFRPart2", "CommonRule", "HIPAANOPP", "HIPAAPsyNotes", "HIPAASelfPay",
	"Title38Section7332",
	// Consent directives.
	"EMRGONLY", "GRANTORCHOICE", "IMPLIED", "IMPLIEDD", "NOCONSENT", "NOPP",
	"OPTIN", "OPTINR", "OPTOUT", "OPTOUTE",
	// Compartments.
	"COMPT", "ACOCOMPT", "CTCOMPT", "FMCOMPT", "HRCOMPT", "LRCOMPT",
	"PACOMPT", "RESCOMPT", "RMGTCOMPT",
	// Trust and other security policies.
	"TRSTACCRD", "TRSTAGRE", "TRSTASSUR", "TRSTCERT", "TRSTFWK", "TRSTMEC",
	"COVPOL", "ACCESSCONSCHEME", "AUTHPOL", "DELEPOL", "SecurityPolicy",
	// Obligations.
	"ANONY", "AOD", "AUDIT", "AUDTR", "CPLYCC", "CPLYCD", "CPLYJPP", "CPLYOPP",
	"CPLYOSP", "CPLYPOL", "DECLASSIFYLABEL", "DEID", "DELAU", "DOWNGRDLABEL",
	"DRIVLABEL", "ENCRYPT", "ENCRYPTR", "ENCRYPTT", "ENCRYPTU", "HUAPRV",
	"LABEL", "MASK", "MINEC", "PERSISTLABEL", "PRIVMARK", "PSEUD", "REDACT",
	"UPGRDLABEL", "PROCESSINLINELABEL",
	// Refrains.
	"NOAUTH", "NOCOLLECT", "NODSCLCD", "NODSCLCDS", "NOINTEGRATE", "NOLIST",
	"NOMOU", "NOORGPOL", "NOPAT", "NOPERSISTP", "NORDSCLCD", "NORDSCLCDS",
	"NORDSCLW", "NORELINK", "NOREUSE", "NOVIP", "ORCON", "NOPERSIST",
)

// purposesOfUse are the v3-ActReason codes of the value set
// v3-PurposeOfUse.
var purposesOfUse = codeSet(
	"HMARKT", "HOPERAT", "CAREMGT", "DONAT", "FRAUD", "GOV", "HACCRED",
	"HCOMPL", "HDECD", "HDIRECT", "HDM", "HLEGAL", "HOUTCOMS", "HPRGRP",
	"HQUALIMP", "HSYSADMIN", "LABELING", "METAMGT", "MEMADMIN", "MILCDM",
	"PATADMIN", "PATSFTY", "PERFMSR", "RECORDMGT", "SYSDEV", "HTEST", "TRAIN",
	"HPAYMT", "CLMATTCH", "COVAUTH", "COVERAGE", "ELIGDTRM", "ELIGVER",
	"ENROLLM", "MILDCRG", "REMITADV", "HRESCH", "BIORCH", "CLINTRCH",
	"CLINTRCHNPC", "CLINTRCHPC", "PRECLINTRCH", "DSRCH", "POARCH", "TRANSRCH",
	"PATRQT", "FAMRQT", "PWATRNY", "SUPNWK", "PUBHLTH", "DISASTER", "THREAT",
	"TREAT", "CLINTRL", "COC", "ETREAT", "BTG", "ERTREAT", "POPHLTH",
)

// integrityCodes are the v3-ObservationValue codes of the value set
// v3-SecurityIntegrityObservationValue (alteration, data integrity,
// integrity confidence and provenance).
var integrityCodes = codeSet(
	"ABSTRED", "AGGRED", "ANONYED", "MAPPED", "MASKED", "PSEUDED", "REDACTED",
	"SUBSETTED", "SYNTAC", "TRSLT", "VERSIONED", "CRYTOHASH", "DIGSIG",
	"HRELIABLE", "RELIABLE", "UNCERTREL", "UNRELIABLE", "CLINAST", "DEVAST",
	"HCPAST", "PACQAST", "PATAST", "PAYAST", "PROAST", "SDMAST", "CLINRPT",
	"DEVRPT", "HCPRPT", "PACQRPT", "PATRPT", "PAYRPT", "PRORPT", "SDMRPT",
)

func codeSet(codes ...string) map[string]bool {
	m := make(map[string]bool, len(codes))
	for _, c := range codes {
		m[c] = true
	}
	return m
}

// vocabulary returns the codes ds4p knows in system (current or legacy
// name), nil for a system outside the label vocabulary.
func vocabulary(system string) map[string]bool {
	switch NormalizeSystem(system) {
	case SystemActCode:
		return actCodeLabels
	case SystemActReason:
		return purposesOfUse
	case SystemObservationValue:
		return integrityCodes
	}
	return nil
}

// KnownCode reports whether code is a security label code ds4p knows in
// system: a confidentiality (U L M N R V), a v3-ActCode sensitivity, policy,
// consent directive, obligation or refrain, a v3-ActReason purpose of use,
// or a v3-ObservationValue integrity code. Codes are case-sensitive, as in
// FHIR. Any other system is unknown.
func KnownCode(system, code string) bool {
	if NormalizeSystem(system) == SystemConfidentiality {
		return ConfidentialityRank(code) >= 0
	}
	return vocabulary(system)[code]
}

// systemOfCode returns the label system a security label code without a
// system belongs to: the one of v3-Confidentiality, v3-ActCode,
// v3-ActReason and v3-ObservationValue whose known codes hold it, "" when
// none or more than one does. A label that names no system but one of these
// codes (42CFRPart2, SUD, R ...) counts as that label: read as no label, it
// would disclose its resource as ordinary, and withholding is the safe side.
func systemOfCode(code string) string {
	return codeSystems[code]
}

// codeSystems maps each code known in exactly one label system to that
// system (see systemOfCode).
var codeSystems = func() map[string]string {
	m := map[string]string{}
	ambiguous := map[string]bool{}
	add := func(system string, codes map[string]bool) {
		for c := range codes {
			if _, dup := m[c]; dup {
				ambiguous[c] = true
			}
			m[c] = system
		}
	}
	add(SystemConfidentiality, codeSet("U", "L", "M", "N", "R", "V"))
	add(SystemActCode, actCodeLabels)
	add(SystemActReason, purposesOfUse)
	add(SystemObservationValue, integrityCodes)
	for c := range ambiguous {
		delete(m, c)
	}
	return m
}()

// foldedCodes maps, per label system ("" for a label without a system:
// the codes of codeSystems), each known code in upper case to the code,
// when no other known code of it folds to the same (see labelCode).
var foldedCodes = func() map[string]map[string]string {
	fold := func(codes iter.Seq[string]) map[string]string {
		m := map[string]string{}
		ambiguous := map[string]bool{}
		for c := range codes {
			u := strings.ToUpper(c)
			if _, dup := m[u]; dup {
				ambiguous[u] = true
			}
			m[u] = c
		}
		for u := range ambiguous {
			delete(m, u)
		}
		return m
	}
	return map[string]map[string]string{
		SystemConfidentiality:  fold(strings.SplitSeq(confidentialityOrder, "")),
		SystemActCode:          fold(maps.Keys(actCodeLabels)),
		SystemActReason:        fold(maps.Keys(purposesOfUse)),
		SystemObservationValue: fold(maps.Keys(integrityCodes)),
		"":                     fold(maps.Keys(codeSystems)),
	}
}()

// labelCode returns the system and code of an existing label of system
// (normalised; "" when it has none) as ds4p reads them: the known label it
// names (knownLabel), else, for a confidentiality code, R; else system and
// code as they came. FHIR codes are case-sensitive and each belongs to its
// system, so no such label is written, but a server accepts one, and read
// as an unknown code it would leave its resource ordinary: withholding is
// the safe side.
func labelCode(system, code string) (string, string) {
	switch system {
	case SystemConfidentiality, SystemActCode, SystemActReason, SystemObservationValue, "":
	default:
		return system, code
	}
	if s, c, ok := knownLabel(system, code); ok {
		return s, c
	}
	if system == SystemConfidentiality {
		// A confidentiality code ds4p does not know (X, "restricted",
		// none, or one of the codes v3 retired in 2014: B, D, I, C, S, T)
		// still says the sender holds the data confidential. Read as no
		// confidentiality, its resource would be ordinary; it reads as R.
		return system, Restricted.Code
	}
	return system, code
}

// knownLabel returns the known label that a label of one of the label
// systems (normalised; "" for none) names: itself when known; the known
// code it spells in another case (r for R, sud for SUD), when exactly one
// known code does and it is not itself known; and, for a code known in none
// of the label systems as the label names it but in exactly one other (R
// filed under v3-ActCode, SUD under v3-Confidentiality) or in no system at
// all, that one's. ok is false when it names none.
func knownLabel(system, code string) (string, string, bool) {
	var known bool
	switch system {
	case SystemConfidentiality:
		known = ConfidentialityRank(code) >= 0
	case SystemActCode, SystemActReason, SystemObservationValue:
		known = vocabulary(system)[code]
	case "":
		known = codeSystems[code] != ""
	default:
		return "", "", false
	}
	if known {
		if system == "" {
			system = codeSystems[code]
		}
		return system, code, true
	}
	if c, ok := foldedCodes[system][strings.ToUpper(code)]; ok {
		if system == "" {
			system = codeSystems[c]
		}
		return system, c, true
	}
	// Known in exactly one label system, but not the one named.
	if s := codeSystems[code]; s != "" {
		return s, code, true
	}
	if c, ok := foldedCodes[""][strings.ToUpper(code)]; ok {
		return codeSystems[c], c, true
	}
	return "", "", false
}

// KnownLabel returns the known security label a label of system and code
// names as the labeller reads labels: the same code filed under another of
// the label systems (SUD under v3-ActReason), or spelt in another case, or
// the system in another spelling (labels.NormalizeSystem). ok is false when
// it names no known label. A consent's deny naming such a label must also
// match the label as the data carries it.
func KnownLabel(system, code string) (string, string, bool) {
	return knownLabel(NormalizeSystem(system), code)
}

// KnownPurpose reports whether code is a v3-PurposeOfUse code.
func KnownPurpose(code string) bool { return purposesOfUse[code] }

// SuggestCode returns the known code of system that code was most likely
// meant to be (the same letters in another case, or one letter added,
// dropped, changed or two swapped), "" when there is none or more than one.
func SuggestCode(system, code string) string {
	known := vocabulary(system)
	if NormalizeSystem(system) == SystemConfidentiality {
		known = codeSet("U", "L", "M", "N", "R", "V")
	}
	return closest(maps.Keys(known), code)
}

// closest returns the one of known that s was most likely meant to be: the
// same letters in another case, or one letter added, dropped, changed or
// two swapped; "" when there is none or more than one. Rule files and
// label codes suggest what a misspelling meant with it.
func closest(known iter.Seq[string], s string) string {
	for k := range known {
		if strings.EqualFold(k, s) {
			return k
		}
	}
	found := ""
	for k := range known {
		if oneEditApart(strings.ToUpper(k), strings.ToUpper(s)) {
			if found != "" {
				return ""
			}
			found = k
		}
	}
	return found
}

// oneEditApart reports whether a and b differ by one insertion, deletion,
// substitution or swap of neighbouring letters.
func oneEditApart(a, b string) bool {
	if len(a) < len(b) {
		a, b = b, a
	}
	switch len(a) - len(b) {
	case 0:
		var diff []int
		for i := range len(a) {
			if a[i] != b[i] {
				diff = append(diff, i)
			}
		}
		switch len(diff) {
		case 1:
			return true
		case 2:
			i, j := diff[0], diff[1]
			return j == i+1 && a[i] == b[j] && a[j] == b[i]
		}
		return false
	case 1:
		i := 0
		for i < len(b) && a[i] == b[i] {
			i++
		}
		return a[i+1:] == b[i:]
	}
	return false
}
