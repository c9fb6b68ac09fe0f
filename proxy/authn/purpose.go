package authn

import (
	"strings"

	"github.com/lestrrat-go/jwx/v2/jwt"
)

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
		if code := NormalizePurpose(r); code != "" && !contains(out, code) {
			out = append(out, code)
		}
	}
	return out
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
// v3-ActReason code, or "" when it names none.
func NormalizePurpose(v any) string {
	switch x := v.(type) {
	case string:
		return normalizeCode(x)
	case map[string]any:
		if code, ok := x["code"].(string); ok {
			return normalizeCode(code)
		}
	}
	return ""
}

func normalizeCode(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexAny(s, "#|"); i >= 0 {
		s = s[i+1:]
	}
	if m, ok := tefca[s]; ok {
		return m
	}
	return s
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
