package fjson

import (
	"encoding/json"
	"testing"
)

func TestKeyIs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw, s string
		want   bool
	}{
		{`security`, "security", true},
		{`security`, "securit", false},
		{`securit`, "security", false},
		{`s\u0065curity`, "security", true},
		{`s\u0065curitx`, "security", false},
		{`s\u0065curity`, "securityX", false},
		{`a\"b`, `a"b`, true},
		{`a\\b`, `a\b`, true},
		{`\u00e9t\u00E9`, "été", true},
		{`\ud83d\ude00`, "😀", true},
		{`\ud83d`, "\uFFFD", true},
		{`\n\t\/`, "\n\t/", true},
		{`\`, `\`, false},
		{`\u12`, "\u0012", false},
		{``, "", true},
		{``, "a", false},
	}
	for _, tt := range tests {
		if got := KeyIs([]byte(tt.raw), tt.s); got != tt.want {
			t.Errorf("KeyIs(%q, %q) = %v, want %v", tt.raw, tt.s, got, tt.want)
		}
	}
}

func TestStringValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{`"plain"`, "plain", true},
		{`"F11.20"`, "F11.20", true},
		{`"a\u0041\n\"é"`, "aA\n\"é", true},
		{`"\ud83d\ude00 \udc00"`, "😀 \uFFFD", true},
		{`""`, "", true},
		{`12`, "", false},
		{`null`, "", false},
		{`"unterminated`, "", false},
		{`"bad \x"`, "", false},
	}
	for _, tt := range tests {
		b := []byte(tt.in)
		got, ok := StringValue(b, 0, len(b))
		if got != tt.want || ok != tt.ok {
			t.Errorf("StringValue(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if !tt.ok {
			continue
		}
		var ref string
		if err := json.Unmarshal(b, &ref); err != nil || ref != got {
			t.Errorf("StringValue(%q) = %q, encoding/json says %q (%v)", tt.in, got, ref, err)
		}
	}
}

func TestRawString(t *testing.T) {
	t.Parallel()
	b := []byte(`{"code":"F11.20","n":5}`)
	if raw, ok := RawString(b, 8, 16); !ok || string(raw) != "F11.20" {
		t.Errorf("RawString = %q, %v; want F11.20", raw, ok)
	}
	if _, ok := RawString(b, 21, 22); ok {
		t.Error("RawString of a number: want false")
	}
}

func TestAppendString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"plain", `"plain"`},
		{`quote " and \ backslash`, `"quote \" and \\ backslash"`},
		{"line\nfeed\r\ttab", `"line\nfeed\r\ttab"`},
		{"\x00\x1f", `"\u0000\u001f"`},
		{"été 😀", `"été 😀"`},
		{"bad \xff utf8", `"bad \ufffd utf8"`},
		{"<html>&", `"<html>&"`},
		{"", `""`},
	}
	for _, tt := range tests {
		got := AppendString([]byte("x"), tt.in)
		if string(got) != "x"+tt.want {
			t.Errorf("AppendString(%q) = %s, want x%s", tt.in, got, tt.want)
		}
		if err := Validate(got[1:], 0); err != nil {
			t.Errorf("AppendString(%q) is not valid JSON: %v", tt.in, err)
		}
	}
}

func FuzzStringRoundTrip(f *testing.F) {
	for _, s := range []string{"", "a", "\"\\", "\x00\u2028", "é😀", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := AppendString(nil, s)
		if err := Validate(q, 0); err != nil {
			t.Fatalf("AppendString(%q) = %s, invalid: %v", s, q, err)
		}
		got, ok := StringValue(q, 0, len(q))
		var ref string
		if err := json.Unmarshal(q, &ref); !ok || err != nil || got != ref {
			t.Fatalf("round trip of %q: StringValue %q %v, encoding/json %q %v", s, got, ok, ref, err)
		}
		if !KeyIs(q[1:len(q)-1], ref) {
			t.Fatalf("KeyIs(%s, %q) = false", q, ref)
		}
	})
}
