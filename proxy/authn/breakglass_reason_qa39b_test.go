package authn_test

import (
	"testing"

	"github.com/ds4p/ds4p/proxy/authn"
)

// TestBreakGlassReasonBlanksQA39B: a reason that shows nothing is no
// emergency claim (15aafa4), but characters that render as nothing and are
// neither control, format, space nor default-ignorable still made one:
// Braille blanks (U+2800, the usual stand-in for an empty name), combining
// marks with no character to mark, private-use and unassigned code points.
// Four of them passed the policy's min_reason_chars, and the 42 CFR
// 2.51(c) record's nature of the emergency showed nothing. Marks on a
// character, and every script's letters, stay.
func TestBreakGlassReasonBlanksQA39B(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"\u2800\u2800\u2800\u2800":                 "",
		"\u0301\u0301\u0301\u0301":                 "",
		" \u20dd\u20dd\u20dd\u20dd":                "",
		"\ue000\ue000\ue000\ue000":                 "",
		"\U000F0000\U000F0000\U000F0000\U000F0000": "",
		"\u0378\u0378\u0378\u0378":                 "",
		"\u2800 overdose \u2800":                   "overdose",
		"cafe\u0301 collapse":                      "cafe\u0301 collapse",
		"रोगी बेहोश":                               "रोगी बेहोश",
		"胸痛":                                       "胸痛",
	} {
		if got := authn.BreakGlassReason(in); got != want {
			t.Errorf("BreakGlassReason(%+q) = %+q, want %+q", in, got, want)
		}
	}
}
