package fjson

import (
	"testing"
)

var skipValidSeeds = []string{
	`{"a":[1,2,{"b":"c\"}"}],"d":"\\"}`,
	`  "x\\\"y"  `,
	`[[],{},"]",-1.5e3,true,null]`,
	`12.5`,
	`false`,
	`{"resourceType":"Patient","name":[{"given":["Ann"]}],"text":{"div":"<div>\u00e9</div>"}}`,
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
	case '[':
		_ = ArrayEach(b, i, func(s, _ int) error { same(s); return nil })
	}
}
