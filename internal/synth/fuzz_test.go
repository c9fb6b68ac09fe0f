package synth

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func FuzzWriteString(f *testing.F) {
	for _, s := range []string{"", "plain", `<div xmlns="x">a & b</div>`, "quote \" back \\ nl \n tab \t", "\x00\x1f", "café ☕", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b bytes.Buffer
		writeString(&b, s)
		var got string
		if err := json.Unmarshal(b.Bytes(), &got); err != nil {
			t.Fatalf("writeString(%q) = %s: %v", s, b.Bytes(), err)
		}
		if utf8.ValidString(s) && got != s {
			t.Fatalf("writeString(%q) round-trips to %q", s, got)
		}
	})
}
