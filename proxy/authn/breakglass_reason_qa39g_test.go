package authn_test

import (
	"testing"

	"github.com/ds4p/ds4p/proxy/authn"
)

// TestBreakGlassReasonNullNoteheadQA39G: f98c9a2 drops the Braille blank,
// the usual stand-in for an empty name, but not its companion in the same
// lists of blank characters, U+1D159 MUSICAL SYMBOL NULL NOTEHEAD (a
// symbol of no ink, So): a reason of four of them met min_reason_chars 4,
// the emergency was granted and the 2.51 record's nature of the emergency
// showed nothing. Music's other symbols stay.
func TestBreakGlassReasonNullNoteheadQA39G(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"\U0001D159\U0001D159\U0001D159\U0001D159": "",
		"\U0001D159 overdose \U0001D159":           "overdose",
		"\U0001D15E\U0001D15F":                     "\U0001D15E\U0001D15F", // half and quarter notes
	} {
		if got := authn.BreakGlassReason(in); got != want {
			t.Errorf("BreakGlassReason(%+q) = %+q, want %+q", in, got, want)
		}
	}
}
