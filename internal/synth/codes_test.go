package synth

import (
	"encoding/json"
	"regexp"
	"testing"
)

// codings returns every {system, code, display} object found in v.
func codings(v any, out *[]concept) {
	switch t := v.(type) {
	case map[string]any:
		sys, _ := t["system"].(string)
		code, _ := t["code"].(string)
		disp, _ := t["display"].(string)
		if sys != "" && code != "" {
			*out = append(*out, concept{sys, code, disp})
		}
		for _, x := range t {
			codings(x, out)
		}
	case []any:
		for _, x := range t {
			codings(x, out)
		}
	}
}

// verhoeff reports whether s ends with a valid Verhoeff check digit, as
// every SNOMED CT identifier does.
func verhoeff(s string) bool {
	d := [10][10]int{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 2, 3, 4, 0, 6, 7, 8, 9, 5}, {2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
		{3, 4, 0, 1, 2, 8, 9, 5, 6, 7}, {4, 0, 1, 2, 3, 9, 5, 6, 7, 8}, {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
		{6, 5, 9, 8, 7, 1, 0, 4, 3, 2}, {7, 6, 5, 9, 8, 2, 1, 0, 4, 3}, {8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
		{9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
	}
	p := [8][10]int{
		{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 7, 6, 2, 8, 3, 0, 9, 4}, {5, 8, 0, 3, 7, 9, 6, 1, 4, 2},
		{8, 9, 1, 6, 0, 4, 3, 5, 2, 7}, {9, 4, 5, 3, 1, 2, 6, 8, 7, 0}, {4, 2, 8, 6, 5, 7, 3, 9, 0, 1},
		{2, 7, 9, 3, 8, 0, 6, 4, 1, 5}, {7, 0, 4, 6, 9, 1, 3, 2, 5, 8},
	}
	c := 0
	for i := range len(s) {
		c = d[c][p[i%8][s[len(s)-1-i]-'0']]
	}
	return c == 0
}

// luhnValid reports whether digits ends with a valid Luhn check digit.
func luhnValid(digits string) bool {
	sum := 0
	for i := range len(digits) {
		n := int(digits[len(digits)-1-i] - '0')
		if i%2 == 1 {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	return sum%10 == 0
}

var (
	sctPattern   = regexp.MustCompile(`^[1-9][0-9]{5,17}$`)
	loincPattern = regexp.MustCompile(`^([0-9]{1,7})-([0-9])$`)
	icdPattern   = regexp.MustCompile(`^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$`)
	rxPattern    = regexp.MustCompile(`^[0-9]{1,8}$`)
	npiPattern   = regexp.MustCompile(`^[12][0-9]{9}$`)
)

// validCode checks a code's syntax and check digit for its system.
func validCode(c concept) bool {
	switch c.system {
	case SystemSNOMED:
		// Concept ids: partition 00 (core) or 10 (extension), Verhoeff check digit.
		n := len(c.code)
		return sctPattern.MatchString(c.code) && (c.code[n-3:n-1] == "00" || c.code[n-3:n-1] == "10") && verhoeff(c.code)
	case SystemLOINC:
		m := loincPattern.FindStringSubmatch(c.code)
		return m != nil && luhnValid(m[1]+m[2])
	case SystemICD10CM:
		return icdPattern.MatchString(c.code)
	case SystemRxNorm, SystemCVX:
		return rxPattern.MatchString(c.code)
	}
	return true
}

func TestCodesAreWellFormed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		c    concept
		want bool
	}{
		{snomed("38341003", ""), true},
		{snomed("38341004", ""), false}, // bad check digit
		{loinc("8480-6", ""), true},
		{loinc("8480-5", ""), false},
		{icd("F11.20", ""), true},
		{icd("F1120", ""), false},
	}
	for _, tt := range tests {
		if got := validCode(tt.c); got != tt.want {
			t.Errorf("validCode(%v) = %v, want %v", tt.c, got, tt.want)
		}
	}
	d := Generate(Options{Seed: 1, Patients: 25})
	seen := map[concept]bool{}
	for _, r := range d.Resources {
		var v any
		if err := json.Unmarshal(r.JSON, &v); err != nil {
			t.Fatal(err)
		}
		var cs []concept
		codings(v, &cs)
		for _, c := range cs {
			seen[c] = true
		}
	}
	if len(seen) < 40 {
		t.Fatalf("only %d distinct codings in 25 patients", len(seen))
	}
	for c := range seen {
		if !validCode(c) {
			t.Errorf("malformed code %v", c)
		}
		if c.display == "" && c.system != SystemUCUM && c.system != "urn:ietf:rfc:3986" && c.system != SystemNPI {
			t.Errorf("coding without display: %v", c)
		}
	}
}

func TestNPIsHaveValidCheckDigits(t *testing.T) {
	t.Parallel()
	var npis []string
	for _, a := range actors {
		if a.npi != "" {
			npis = append(npis, a.npi)
		}
		for _, s := range a.staff {
			npis = append(npis, s.npi)
		}
	}
	npis = append(npis, "1234567893") // the CMS example NPI
	for _, n := range npis {
		// The NPI check digit is a Luhn digit over the prefix 80840 and the NPI.
		if !npiPattern.MatchString(n) || !luhnValid("80840"+n) {
			t.Errorf("invalid NPI %s", n)
		}
	}
	if luhnValid("80840" + "1234567894") {
		t.Error("luhnValid accepts a wrong NPI check digit")
	}
}
