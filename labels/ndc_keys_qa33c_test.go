package labels

import (
	"bytes"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// QA round 33, area C: how NDC codes are keyed (ndcKey, ndcPad), that no
// rule package is read as another's, and what an NDC rule may list.

func TestNDCKeyQA33C(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"49702-258-37":   "49702025837", // 5-3-2
		"0378-5440-93":   "00378544093", // 4-4-2
		"61958-2101-1":   "61958210101", // 5-4-1
		"61958-2101-01":  "61958210101", // 5-4-2
		"61958210101":    "61958210101", // 11 digits
		" 0378-5440-93":  "00378544093",
		"6195821011":     "6195821011",     // 10 digits: read three ways (ndcPad)
		"4970-258-37":    "4970-258-37",    // 4-3-2 is no layout: as written
		"49702-258-3":    "49702-258-3",    // nine digits
		"1-2-3":          "1-2-3",          // too short
		"49702-258-37x":  "49702-258-37x",  // not digits
		"49702-258-37-":  "49702-258-37-",  // a fourth segment
		"12345678901-":   "12345678901-",   // two segments
		"49702-0258-370": "49702-0258-370", // twelve digits
	} {
		if got := string(matchKey(nil, []byte(in), keyNDC)); got != want {
			t.Errorf("matchKey(%q, NDC) = %q, want %q", in, got, want)
		}
	}
	d := []byte("6195821011")
	var got []string
	for k := range 3 {
		got = append(got, string(ndcPad(nil, d, k)))
	}
	if want := []string{"06195821011", "61958021011", "61958210101"}; !slices.Equal(got, want) {
		t.Errorf("ndcPad readings of %s = %v, want %v", d, got, want)
	}
}

// TestNDCRulesDoNotCollideQA33C: an NDC written with ten digits and no
// hyphens is matched in its three readings; none of a rule package's
// ten-digit spellings may read as another rule's package of other labels,
// and none of the ordinary packages the tests use as a rule's.
func TestNDCRulesDoNotCollideQA33C(t *testing.T) {
	t.Parallel()
	sub, err := fs.Sub(embedded, "rules")
	if err != nil {
		t.Fatal(err)
	}
	rf, err := ReadRules(sub)
	if err != nil {
		t.Fatal(err)
	}
	owner := map[string]string{} // 11-digit key -> labels
	for _, r := range rf.Rules {
		if string(codeSystem([]byte(r.System))) != SystemNDC {
			continue
		}
		if len(r.Prefixes)+len(r.Ranges) > 0 {
			t.Errorf("rule %q: NDC prefixes or ranges: extend this test", r.ID)
		}
		for _, c := range r.Codes {
			k := matchKey(nil, []byte(c), keyNDC)
			if len(k) != 11 {
				t.Errorf("rule %q: code %q is not in a known layout (key %q): write it hyphenated", r.ID, c, k)
				continue
			}
			owner[string(k)] = NewSet(r.Labels...).Key()
		}
	}
	if len(owner) < 40 {
		t.Fatalf("%d NDC rule packages, want the rules' 49", len(owner))
	}
	// Each ten-digit spelling of a key drops a leading zero of one segment.
	tenDigit := func(k string) []string {
		var out []string
		for _, at := range []int{0, 5, 9} {
			if k[at] == '0' {
				out = append(out, k[:at]+k[at+1:])
			}
		}
		return out
	}
	l := Default()
	for k, lab := range owner {
		for _, d := range tenDigit(k) {
			for n := range 3 {
				if o, ok := owner[string(ndcPad(nil, []byte(d), n))]; ok && o != lab {
					t.Errorf("%s (of %s) reads as a package labelled %s", d, k, o)
				}
			}
		}
	}
	for _, k := range []string{"00409201232", "82619010101", "00597014560"} {
		for _, d := range append(tenDigit(k), k) {
			r, err := l.Label([]byte(`{"resourceType":"MedicationDispense","id":"d","status":"completed","medicationCodeableConcept":{"coding":[{"system":"` + SystemNDC + `","code":"` + d + `"}]}}`))
			if err != nil {
				t.Fatal(err)
			}
			if r.Labels.Sensitive() {
				t.Errorf("ordinary %s: labels %v", d, r.Labels)
			}
		}
	}
}

// TestNDCRuleCodesQA33C: an NDC rule code that is no NDC does not load (it
// could match only a coding as malformed); one of ten digits without
// hyphens loads, matches all three readings, and is warned about; an
// exclusion and a prefix are compared as codes are.
func TestNDCRuleCodesQA33C(t *testing.T) {
	t.Parallel()
	file := func(rule string) fstest.MapFS {
		return fstest.MapFS{"x.yaml": {Data: []byte("topic: HIV\nsources: [test]\nrules:\n  - id: x\n    system: urn:oid:2.16.840.1.113883.6.69\n" + rule + "    labels: [HIV, R]\n")}}
	}
	for _, bad := range []string{`codes: ["49702-258-3"]`, `codes: ["4970-258-37"]`, `codes: ["49702-258-37x"]`, `exclude: ["1-2-3"]` + "\n    codes: [\"49702-258-37\"]", `prefixes: ["49702-25-"]`, `prefixes: ["497020258371"]`, `ranges: [["4970225837", "4970225839"]]`} {
		rf, err := ReadRules(file("    " + bad + "\n"))
		if err == nil {
			_, _, err = compile(rf.Rules)
		}
		if err == nil || !strings.Contains(err.Error(), "NDC") {
			t.Errorf("%s: loaded (%v), want an error naming NDC", bad, err)
		}
	}
	// A code or prefix its own NDC exclusion prefix covers whole is
	// reported, as for other systems.
	for _, self := range []string{"    codes: [\"0378-5440-93\"]\n    exclude_prefixes: [\"0378-\"]\n", "    prefixes: [\"49702-0258\"]\n    exclude_prefixes: [\"49702-\"]\n"} {
		if _, err := ReadRules(file(self)); err == nil || !strings.Contains(err.Error(), "would match nothing") {
			t.Errorf("%s: %v, want an error that it would match nothing", self, err)
		}
	}
	rf, err := ReadRules(file("    codes: [\"4970225837\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(rf.Warnings) != 1 || !strings.Contains(rf.Warnings[0], "4970225837") {
		t.Errorf("warnings %q, want one naming 4970225837", rf.Warnings)
	}
	rs, bySystem, err := compile(rf.Rules)
	if err != nil {
		t.Fatal(err)
	}
	m := bySystem[SystemNDC]
	if m == nil {
		t.Fatalf("no NDC rules: %v", bySystem)
	}
	for _, c := range []string{"49702-258-37", "4970-2258-37", "49702-2583-7", "4970225837"} {
		key := matchKey(nil, []byte(c), keyNDC)
		if len(m.candidates(nil, key)) == 0 {
			t.Errorf("%s: no match for a rule code 4970225837", c)
		}
	}
	// An exclusion: excluded in the reading that matched. Ten digits
	// without hyphens are excluded only when all three readings are:
	// 4970225837 may be 49702-2583-7, which the prefix covers.
	rf, err = ReadRules(file("    prefixes: [\"49702-\"]\n    exclude: [\"49702-258-37\"]\n    exclude_prefixes: [\"49702-0300\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	rs, bySystem, err = compile(rf.Rules)
	if err != nil {
		t.Fatal(err)
	}
	m = bySystem[SystemNDC]
	if m == nil {
		t.Fatalf("no NDC rules: %v", bySystem)
	}
	for c, want := range map[string]bool{"49702-259-37": true, "49702025937": true, "49702-258-37": false, "49702-0258-37": false, "49702-300-01": false, "4970225937": true, "4970225837": true, "1249612023": false} {
		key := matchKey(nil, []byte(c), keyNDC)
		got := false
		for _, r := range m.candidates(nil, key) {
			got = got || !rs[r].excluded(key)
		}
		if got != want {
			t.Errorf("%s under a rule of prefix 49702- but 49702-258-37 and 49702-0300: matched %v, want %v", c, got, want)
		}
	}
}

// TestNDCMatchKeyAllocatesNothingQA33C: keying a hyphenated NDC into the
// walker's stack buffer, and looking up a ten-digit one in its three
// readings, allocates nothing.
func TestNDCMatchKeyAllocatesNothingQA33C(t *testing.T) {
	_, bySystem, err := compile([]Rule{{ID: "x", System: SystemNDC, Codes: []string{"49702-258-37"}, Labels: []Label{{System: SystemActCode, Code: "HIV"}}}})
	if err != nil {
		t.Fatal(err)
	}
	m := bySystem[SystemNDC]
	codes := [][]byte{[]byte("49702-258-37"), []byte("4970225837"), []byte("49702025837")}
	misses := 0
	n := testing.AllocsPerRun(100, func() {
		for _, c := range codes {
			var kb [24]byte
			var buf [8]int
			key := matchKey(kb[:0], c, m.mode)
			if len(m.candidates(buf[:0], key)) != 1 || !bytes.Equal(codeSystem([]byte("urn:oid:2.16.840.1.113883.6.69")), bNDC) {
				misses++
			}
		}
	})
	if n != 0 || misses != 0 {
		t.Errorf("%v allocations, want 0; %d lookups missed the rule, want 0", n, misses)
	}
}
