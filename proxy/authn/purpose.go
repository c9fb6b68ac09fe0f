package authn

import (
	"strings"
	"unicode"

	"github.com/lestrrat-go/jwx/v2/jwt"

	"github.com/ds4p/ds4p/internal/textcut"
	"github.com/ds4p/ds4p/labels"
)

// TEFCASystem is the code system of TEFCA exchange purposes (T-TREAT ...).
const TEFCASystem = "urn:oid:2.16.840.1.113883.3.7204.1.5.2.1"

// UnreadablePurpose stands, among a token's purposes, for a purpose claim
// value that names no code (a number, an object without a string code, a
// CodeableConcept): the token states a purpose the proxy cannot read,
// which the policy must not drop (a caller stating several purposes gets
// only what each allows), so it counts as an unknown one.
const UnreadablePurpose = "(unreadable)"

// actReasonSystems are the systems a purpose code may be qualified with to
// be read as a v3-ActReason code: the code system (THO URL, pre-THO URL,
// OID with and without urn:oid:) and the v3-PurposeOfUse value set drawn
// from it (URL and OID), which IHE XUA/IUA and UDAP profiles name.
var actReasonSystems = map[string]bool{
	labels.SystemActReason: true, labels.LegacyActReason: true, labels.OIDActReason: true,
	strings.TrimPrefix(labels.OIDActReason, "urn:oid:"):   true,
	"http://terminology.hl7.org/ValueSet/v3-PurposeOfUse": true,
	"urn:oid:2.16.840.1.113883.1.11.20448":                true,
	"2.16.840.1.113883.1.11.20448":                        true,
}

// tefca maps TEFCA exchange purpose codes to v3-ActReason.
var tefca = map[string]string{
	"T-TREAT":      "TREAT",
	"T-PYMNT":      "HPAYMT",
	"T-HCO":        "HOPERAT",
	"T-PH":         "PUBHLTH",
	"T-IAS":        "PATRQT",
	"T-GOVDTRM":    "GOVDTRM",
	"T-TRTMNT":     "TREAT",
	"T-HCO-CC":     "HOPERAT",
	"T-HCO-HED":    "HOPERAT",
	"T-HCO-QM":     "HOPERAT",
	"T-PH-ECR":     "PUBHLTH",
	"T-PH-ELR":     "PUBHLTH",
	"T-PYMNT-AUTH": "HPAYMT",
}

// Purposes reads the purposes of use a token states from the default claims
// (DefaultPurposeClaims: plain `purpose_of_use`, IHE IUA
// `ihe_iua.purpose_of_use`, UDAP `hl7-b2b.purpose_of_use`) and normalises
// each to a v3-ActReason code. A token that states none has none: it is
// never read as TREAT.
func Purposes(tok jwt.Token) []string { return PurposesFrom(tok, DefaultPurposeClaims) }

// PurposesFrom reads the purposes of use from the claims at paths (object
// keys separated by dots), normalised and without duplicates.
func PurposesFrom(tok jwt.Token, paths []string) []string {
	var raw []any
	for _, p := range paths {
		raw = append(raw, flatten(claimAt(tok, p))...)
	}
	var out []string
	for _, r := range raw {
		code := NormalizePurpose(r)
		if code == "" && !blank(r) {
			code = UnreadablePurpose
		}
		if code != "" && !contains(out, code) {
			out = append(out, code)
		}
	}
	return out
}

// blank reports whether a purpose claim value states nothing at all: null
// or a string of only spaces.
func blank(v any) bool {
	s, ok := v.(string)
	return v == nil || ok && strings.TrimSpace(s) == ""
}

// claimAt follows a dotted path of object keys from the token's claims; the
// first key may itself contain dots only when it names a whole claim.
func claimAt(tok jwt.Token, path string) any {
	if v, ok := tok.Get(path); ok {
		return v
	}
	first, rest, ok := strings.Cut(path, ".")
	if !ok {
		return nil
	}
	v, ok := tok.Get(first)
	if !ok {
		return nil
	}
	for _, key := range strings.Split(rest, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		if v, ok = m[key]; !ok {
			return nil
		}
	}
	return v
}

func flatten(v any) []any {
	if list, ok := v.([]any); ok {
		return list
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

// NormalizePurpose turns one claimed purpose (a code, "system#code",
// "system|code", a Coding object {system, code} or a TEFCA code) into a
// v3-ActReason code, or "" when it names none. A code qualified by a
// system is read in that system only: a v3-ActReason system (actReasonSystems)
// gives the code as it is, the TEFCA system its v3-ActReason mapping; a
// code of any other system, or one its system does not hold (a TEFCA code
// under v3-ActReason), is returned as "system|code", a purpose the policy
// does not know, never as the v3-ActReason code it happens to spell ("TREAT"
// of a local code system is not treatment).
func NormalizePurpose(v any) string {
	switch x := v.(type) {
	case string:
		s := strings.TrimSpace(x)
		if i := strings.LastIndexAny(s, "#|"); i >= 0 {
			return codeIn(s[:i], s[i+1:])
		}
		return codeIn("", s)
	case map[string]any:
		code, ok := x["code"].(string)
		if !ok {
			return ""
		}
		system, ok := x["system"].(string)
		if _, present := x["system"]; present && !ok {
			return ""
		}
		return codeIn(system, code)
	}
	return ""
}

// codeIn is the v3-ActReason code that code of system stands for ("" for
// no system), or "system|code" when it stands for none.
func codeIn(system, code string) string {
	system, code = strings.TrimSpace(system), strings.TrimSpace(code)
	if code == "" {
		return ""
	}
	switch {
	case system == "":
		if m, ok := tefca[code]; ok {
			return m
		}
		return code
	case actReasonSystems[system]:
		if _, ok := tefca[code]; !ok {
			return code
		}
	case system == TEFCASystem || system == strings.TrimPrefix(TEFCASystem, "urn:oid:"):
		if m, ok := tefca[code]; ok {
			return m
		}
	}
	return system + "|" + code
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// MaxBreakGlassReasonBytes bounds the break-the-glass reason the proxy
// keeps: it goes into the ledger entry of every patient an emergency
// response discloses, and the nature of an emergency needs no more.
const MaxBreakGlassReasonBytes = 1024

// BreakGlassReason is a token's break-the-glass claim as the proxy reads
// it: characters that show nothing (control and format characters such
// as NUL or a zero-width space, default-ignorable ones, invalid UTF-8)
// and runs of white space become one space, the ends are trimmed, and
// the rest is cut to MaxBreakGlassReasonBytes. The policy counts the
// characters of a stated reason (break_glass.min_reason_chars), and the
// 42 CFR 2.51(c) record must name the nature of the emergency: four NULs
// or zero-width spaces are no reason, and a newline in one must not start
// a line of its own where the ledger is shown. "" when nothing is left:
// the token then makes no emergency claim.
func BreakGlassReason(s string) string {
	var b strings.Builder
	gap, base := false, false
	for _, r := range s {
		// Nor do private-use and unassigned code points (not graphic),
		// Braille blanks (the usual stand-in for an empty name) and the
		// musical null notehead (its companion in lists of blanks), or
		// combining marks with no character to mark (base).
		if r == unicode.ReplacementChar || r == '\u2800' || r == '\U0001D159' || !unicode.IsGraphic(r) || unicode.IsSpace(r) ||
			unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector) ||
			!base && unicode.In(r, unicode.M) {
			gap, base = b.Len() > 0, false
			continue
		}
		if gap {
			b.WriteByte(' ')
			gap = false
		}
		b.WriteRune(r)
		base = true
	}
	return textcut.Cut(b.String(), MaxBreakGlassReasonBytes)
}
