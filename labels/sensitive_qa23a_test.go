package labels

import (
	"math/rand/v2"
	"testing"
)

// markSensitive is what the proxy asked before Set.Sensitive: the
// high-water mark of s alone holds a v3-ActCode or confidentiality R or V.
func markSensitive(s Set) bool {
	for _, l := range HighWaterMark([]Result{{Labels: s}}) {
		switch {
		case l.System == SystemActCode:
			return true
		case l.System == SystemConfidentiality && (l.Code == "R" || l.Code == "V"):
			return true
		}
	}
	return false
}

// TestSensitiveAsTheMark (QA round 23, area A): Set.Sensitive answers as
// the high-water mark did, on random sets of confidentiality codes (known,
// unknown, lower case), sensitivity, policy, obligation and refrain codes,
// other systems' codes and legacy systems, without allocating.
func TestSensitiveAsTheMark(t *testing.T) {
	pool := []Label{
		{System: SystemConfidentiality, Code: "U"}, {System: SystemConfidentiality, Code: "L"},
		{System: SystemConfidentiality, Code: "M"}, {System: SystemConfidentiality, Code: "N"},
		{System: SystemConfidentiality, Code: "R"}, {System: SystemConfidentiality, Code: "V"},
		{System: SystemConfidentiality, Code: "r"}, {System: SystemConfidentiality, Code: "X"},
		{System: LegacyConfidentiality, Code: "R"}, {System: LegacyActCode, Code: "SUD"},
		{System: SystemActCode, Code: "SUD"}, {System: SystemActCode, Code: "HIV"},
		{System: SystemActCode, Code: "42CFRPart2"}, {System: SystemActCode, Code: "REDACT"},
		{System: SystemActCode, Code: "PROCESSINLINELABEL"}, {System: SystemActCode, Code: "NORDSCLCD"},
		{System: SystemActCode, Code: "NOREUSE"}, {System: SystemObservationValue, Code: "REDACTED"},
		{System: SystemActReason, Code: "TREAT"}, {System: "http://example.org/x", Code: "R"},
	}
	rng := rand.New(rand.NewPCG(23, 0xa))
	seen := map[bool]int{}
	for range 20000 {
		var ls []Label
		for range rng.IntN(5) {
			ls = append(ls, pool[rng.IntN(len(pool))])
		}
		for _, s := range []Set{NewSet(ls...), Set(ls)} { // normalised, and as given
			want := markSensitive(s)
			if got := s.Sensitive(); got != want {
				t.Fatalf("%v.Sensitive() = %v, the mark says %v", s, got, want)
			}
			seen[want]++
		}
	}
	if seen[true] < 1000 || seen[false] < 1000 {
		t.Fatalf("answers %v: the sets test one answer only", seen)
	}
	s := NewSet(pool[5], pool[10], pool[13])
	if n := testing.AllocsPerRun(100, func() { s.Sensitive() }); n != 0 {
		t.Errorf("%v allocations a call", n)
	}
}
