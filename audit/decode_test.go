package audit

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

// decodeFast must decode exactly what json.Unmarshal decodes, or decline.

// sameAsUnmarshal fails unless decodeFast declines v or decodes it as
// json.Unmarshal does, and decodeEntry errs exactly when json.Unmarshal
// does, with the same entry otherwise. It reports whether decodeFast took v.
func sameAsUnmarshal(t *testing.T, v []byte) bool {
	t.Helper()
	var want Entry
	werr := json.Unmarshal(v, &want)
	fast, ok := decodeFast(v)
	if ok && (werr != nil || !reflect.DeepEqual(fast, want)) {
		t.Fatalf("decodeFast took %q as\n%+v\njson.Unmarshal: %v\n%+v", v, fast, werr, want)
	}
	got, err := decodeEntry(v)
	if (err != nil) != (werr != nil) || werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeEntry(%q) = %+v, %v; json.Unmarshal: %+v, %v", v, got, err, want, werr)
	}
	return ok
}

// decodeSeeds are stored entries, as appendEntryJSON writes them.
func decodeSeeds() [][]byte {
	var out [][]byte
	add := func(e Entry) {
		if v, ok := appendEntryJSON(nil, &e); ok {
			out = append(out, v)
		}
	}
	for i := range 8 {
		add(variedEntry(i))
		add(canonical(variedEntry(i)))
		add(phiEntry(i))
	}
	add(Entry{})
	for _, s := range trickyStrings {
		e := variedEntry(1)
		e.RequestID, e.Caller.Name, e.Query, e.Alert, e.Hash, e.Interaction = s, s, s, s, s, s
		e.Purposes = []string{s, s}
		e.Disclosed = []Item{{Type: s, ID: s, Version: s, Labels: []string{s}}, {}}
		e.Withheld = []Item{{Type: s, ID: s, Labels: []string{s}, Reasons: []string{s, "part2.no_consent"}}}
		e.BreakGlass = &BreakGlass{Reason: s, DisclosedBy: s}
		add(e)
		e.Caller.PatientUser = true
		add(e)
		e.RulesRevision = s
		add(e)
	}
	return out
}

func TestDecodeFastTakesWhatAppendEntryJSONWrites(t *testing.T) {
	t.Parallel()
	for _, v := range decodeSeeds() {
		if !sameAsUnmarshal(t, v) {
			t.Errorf("decodeFast declined an entry appendEntryJSON wrote: %s", v)
		}
	}
}

func TestDecodeFastDeclinesWhatItDoesNotKnow(t *testing.T) {
	t.Parallel()
	e := variedEntry(1)
	e.Seq = 3
	e.Disclosed = []Item{{Type: "Observation", ID: "o", Version: "1", Labels: []string{"a|b"}}}
	base, _ := appendEntryJSON(nil, &e)
	s := string(base)
	for name, v := range map[string]string{
		"unknown member":          strings.Replace(s, `{"seq"`, `{"future":[1,{"a":null}],"seq"`, 1),
		"member in another case":  strings.Replace(s, `"seq"`, `"Seq"`, 1),
		"escaped member name":     strings.Replace(s, `"seq"`, `"s\u0065q"`, 1),
		"duplicate member":        strings.Replace(s, `"seq":`, `"seq":1,"seq":`, 1),
		"duplicate in an item":    strings.Replace(s, `"type":`, `"id":"x","type":`, 1),
		"null string":             strings.Replace(s, `"patient":"`, `"patient":null,"x":"`, 1),
		"null caller":             strings.Replace(s, `"caller":{`, `"caller":null,"x":{`, 1),
		"null time":               strings.Replace(s, `"time":"`, `"time":null,"x":"`, 1),
		"null label":              strings.Replace(s, `"labels":[`, `"labels":[null,`, 1),
		"null item":               strings.Replace(s, `"disclosed":[`, `"disclosed":[null,`, 1),
		"negative seq":            strings.Replace(s, `"seq":`, `"seq":-`, 1),
		"fractional seq":          strings.Replace(s, `"seq":3`, `"seq":3.0`, 1),
		"exponent seq":            strings.Replace(s, `"seq":3`, `"seq":3e0`, 1),
		"seq too large":           strings.Replace(s, `"seq":3`, `"seq":18446744073709551616`, 1),
		"seq as a string":         strings.Replace(s, `"seq":3`, `"seq":"3"`, 1),
		"number for a string":     strings.Replace(s, `"policy_revision":"`, `"policy_revision":7,"x":"`, 1),
		"bad time":                strings.Replace(s, `"time":"`, `"time":"x`, 1),
		"invalid UTF-8":           strings.Replace(s, `"query":"`, "\"query\":\"\xff", 1),
		"bytes after":             s + ` {}`,
		"patient_user false":      strings.Replace(s, `"client":`, `"patient_user":false,"client":`, 1),
		"patient_user twice":      strings.Replace(s, `"client":`, `"patient_user":true,"patient_user":true,"client":`, 1),
		"patient_user as string":  strings.Replace(s, `"client":`, `"patient_user":"true","client":`, 1),
		"spaces around (allowed)": " \n" + s + "\t ",
	} {
		if v == s {
			t.Fatalf("%s: the entry is unchanged", name)
		}
		if took := sameAsUnmarshal(t, []byte(v)); took != (name == "spaces around (allowed)") {
			t.Errorf("%s: decodeFast took it: %v", name, took)
		}
	}
}

func TestDecodeFastEscapes(t *testing.T) {
	t.Parallel()
	e := variedEntry(2)
	e.Query = "Observation?patient=p&code=<x>\u2028"
	e.Disclosed = []Item{{Type: "Observation", ID: "a&b", Labels: []string{"s|<c>", "s|<c>"}}}
	v, _ := appendEntryJSON(nil, &e)
	if !bytes.Contains(v, []byte(`\u0026`)) {
		t.Fatalf("no escape in %s", v)
	}
	if !sameAsUnmarshal(t, v) {
		t.Fatal("declined an entry with escaped strings")
	}
	// Escapes the encoder never writes decode as encoding/json decodes them.
	for _, esc := range []string{`\ud800`, `\udc00\ud800`, `\/`, `\u00e9`, `\ud83d\ude42`} {
		w := bytes.Replace(v, []byte(`"id":"a\u0026b"`), []byte(`"id":"`+esc+`"`), 1)
		sameAsUnmarshal(t, w)
	}
}

func FuzzDecodeEntry(f *testing.F) {
	for _, v := range decodeSeeds() {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		sameAsUnmarshal(t, v)
	})
}

// BenchmarkDecodeEntry decodes a search's entry of 1,000 items, each with
// three labels.
func BenchmarkDecodeEntry(b *testing.B) {
	e := variedEntry(1)
	e.Time = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	e.Disclosed = make([]Item, 1000)
	for i := range e.Disclosed {
		e.Disclosed[i] = Item{Type: "Observation", ID: "obs-" + strings.Repeat("7", i%13+1), Version: "1",
			Labels: []string{"http://terminology.hl7.org/CodeSystem/v3-Confidentiality|N", "http://terminology.hl7.org/CodeSystem/v3-ActCode|SUD", "http://terminology.hl7.org/CodeSystem/v3-ActCode|42CFRPart2"}}
	}
	v, _ := appendEntryJSON(nil, &e)
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(int64(len(v)))
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := decodeFast(v); !ok {
				b.Fatal("declined")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(v)))
		b.ReportAllocs()
		for b.Loop() {
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
