package fjson

import (
	"testing"
)

var skipValidSeeds = []string{
	`{"a":{"contained":1},"b":[{"contained":2},","],"c\u006fntained" : [3],"d":"}"}`,
	`{"a":[1,2,{"b":"c\"}"}],"d":"\\"}`,
	`  "x\\\"y"  `,
	`[[],{},"]",-1.5e3,true,null]`,
	`12.5`,
	`false`,
	`{"resourceType":"Patient","name":[{"given":["Ann"]}],"text":{"div":"<div>\u00e9</div>"}}`,
	`{"a\\\"bcdefgh\\":1,"abcdefghijklmnopq\\":"abcdefgh\\\\","x":"abcdefghijklmnopqrstuvwxyz\"\\\"","\u0041":{}}`,
}

// TestSkipValidMatchesSkipValue: on valid JSON, SkipValid ends where
// SkipValue does.
func TestSkipValidMatchesSkipValue(t *testing.T) {
	t.Parallel()
	for _, s := range skipValidSeeds {
		checkSkipValid(t, []byte(s))
	}
}

func FuzzSkipValid(f *testing.F) {
	for _, s := range skipValidSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = SkipValid(b, 0) // never panics, whatever the input
		_, _ = ObjectScanValid(b, 0, func(_ []byte, v int) (int, error) { return SkipValid(b, v) })
		_, _, _ = SkipObjectValid(b, 0, "a")
		checkSkipValid(t, b)
	})
}

func checkSkipValid(t *testing.T, b []byte) {
	t.Helper()
	if Validate(b, MaxDepth) != nil {
		return // only input Validate accepts is specified
	}
	same := func(i int) {
		want, err := SkipValue(b, i)
		if err != nil {
			t.Fatalf("%q at %d: SkipValue: %v", b, i, err)
		}
		if got, err := SkipValid(b, i); err != nil || got != want {
			t.Fatalf("%q at %d: SkipValid %d, %v; SkipValue %d", b, i, got, err, want)
		}
	}
	same(0)
	i := SkipSpace(b, 0)
	switch b[i] {
	case '{':
		_ = ObjectEach(b, i, func(_ []byte, s, _ int) error { same(s); return nil })
		sameScan(t, b, i)
		sameMember(t, b, i)
	case '[':
		_ = ArrayEach(b, i, func(s, _ int) error { same(s); return nil })
	}
}

// sameScan checks that ObjectScanValid reports the keys and values
// ObjectScan does, on an object Validate accepted.
func sameScan(t *testing.T, b []byte, i int) {
	t.Helper()
	type member struct {
		key        string
		start, end int
	}
	walk := func(scan func([]byte, int, func([]byte, int) (int, error)) (int, error)) ([]member, int) {
		var ms []member
		end, err := scan(b, i, func(k []byte, v int) (int, error) {
			e, err := SkipValue(b, v)
			ms = append(ms, member{string(k), v, e})
			return e, err
		})
		if err != nil {
			t.Fatalf("%q: %v", b, err)
		}
		return ms, end
	}
	want, wantEnd := walk(ObjectScan)
	got, gotEnd := walk(ObjectScanValid)
	if gotEnd != wantEnd || len(got) != len(want) {
		t.Fatalf("%q: ObjectScanValid %v end %d; ObjectScan %v end %d", b, got, gotEnd, want, wantEnd)
	}
	for k := range want {
		if got[k] != want[k] {
			t.Fatalf("%q: member %d: ObjectScanValid %v; ObjectScan %v", b, k, got[k], want[k])
		}
	}
}

// sameMember checks that SkipObjectValid ends where SkipValue does and
// finds each key's value where ObjectScan does, and no value for a name
// the object lacks, on an object Validate accepted.
func sameMember(t *testing.T, b []byte, i int) {
	t.Helper()
	want, err := SkipValue(b, i)
	if err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	names := map[string]int{"\x00absent": -1}
	_, _ = ObjectScan(b, i, func(k []byte, v int) (int, error) {
		names[string(k)] = v // Validate forbids duplicates
		return SkipValue(b, v)
	})
	for raw, at := range names {
		name := raw
		if at >= 0 {
			s, ok := StringValue([]byte(`"`+raw+`"`), 0, len(raw)+2)
			if !ok {
				t.Fatalf("%q: key %q does not decode", b, raw)
			}
			name = s
		}
		end, member, err := SkipObjectValid(b, i, name)
		if err != nil || end != want || member != at {
			t.Fatalf("%q, %q: SkipObjectValid %d, %d, %v; want %d, %d", b, name, end, member, err, want, at)
		}
	}
}
