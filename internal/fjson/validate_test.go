package fjson

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/bits"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    string
		depth int
		err   string // substring of the error; "" means valid
	}{
		{name: "object", in: `{"a":1,"b":[true,false,null],"c":{"d":"e"}}`, depth: 2},
		{name: "surrounding whitespace", in: " \t\r\n{} \n", depth: 1},
		{name: "scalar", in: `60.40`},
		{name: "string escapes", in: `"\" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00"`},
		{name: "utf8", in: `"Müller 日本 😀"`},
		{name: "lone surrogate escape", in: `"\ud800"`},
		{name: "numbers", in: `[0,-0,1,-1,10.5,1e5,1E+5,1e-5,0.0e0,123456789012345678901234567890]`, depth: 1},
		{name: "empty", in: ``, err: "unexpected end"},
		{name: "only space", in: `  `, err: "unexpected end"},
		{name: "two values", in: `{} {}`, depth: 1, err: "data after top-level value"},
		{name: "trailing comma object", in: `{"a":1,}`, depth: 1, err: "expected string key"},
		{name: "trailing comma array", in: `[1,]`, depth: 1, err: "invalid character"},
		{name: "missing colon", in: `{"a" 1}`, depth: 1, err: "expected colon"},
		{name: "unquoted key", in: `{a:1}`, depth: 1, err: "expected string key"},
		{name: "single quotes", in: `{'a':1}`, depth: 1, err: "expected string key"},
		{name: "mismatched bracket", in: `{"a":[1}`, depth: 2, err: "expected comma"},
		{name: "unterminated object", in: `{"a":1`, depth: 1, err: "unexpected end"},
		{name: "unterminated string", in: `"abc`, err: "unterminated string"},
		{name: "raw newline in string", in: "\"a\nb\"", err: "control character"},
		{name: "raw tab in string", in: "\"a\tb\"", err: "control character"},
		{name: "bad escape", in: `"\x41"`, err: "invalid escape"},
		{name: "short unicode escape", in: `"\u12"`, err: "unterminated string"},
		{name: "bad unicode escape", in: `"\u12g4"`, err: "invalid \\u escape"},
		{name: "invalid utf8", in: "\"\xff\"", err: "invalid UTF-8"},
		{name: "overlong utf8", in: "\"\xc0\xaf\"", err: "invalid UTF-8"},
		{name: "truncated utf8", in: "\"\xe6\x97\"", err: "invalid UTF-8"},
		{name: "leading zero", in: `01`, err: "data after top-level value"},
		{name: "leading plus", in: `+1`, err: "invalid character"},
		{name: "bare minus", in: `-`, err: "invalid number"},
		{name: "dot without digits", in: `1.`, err: "invalid number"},
		{name: "dot first", in: `.5`, err: "invalid character"},
		{name: "exponent without digits", in: `1e+`, err: "invalid number"},
		{name: "NaN", in: `NaN`, err: "invalid character"},
		{name: "truncated literal", in: `tru`, err: "invalid literal"},
		{name: "wrong literal", in: `nul1`, err: "invalid literal"},
		{name: "depth at limit", in: `[[[]]]`, depth: 3},
		{name: "depth over limit", in: `[[[[]]]]`, depth: 3, err: "nesting too deep"},
		{name: "object depth over limit", in: `{"a":{"b":{}}}`, depth: 2, err: "nesting too deep"},
		{name: "scalar at depth 0", in: `"x"`, depth: 0},
		{name: "duplicate key", in: `{"a":1,"b":2,"a":3}`, depth: 1, err: "duplicate key"},
		{name: "duplicate key via escape", in: `{"security":[],"s\u0065curity":[]}`, depth: 2, err: "duplicate key"},
		{name: "same key in sibling objects", in: `[{"a":1},{"a":2}]`, depth: 2},
		{name: "same key at different depths", in: `{"a":{"a":{"a":1}}}`, depth: 3},
		{name: "duplicate in nested object", in: `{"meta":{"security":[],"tag":[],"security":[]}}`, depth: 3, err: "duplicate key"},
		{name: "keys differing by escape only", in: `{"a\"":1,"a":2}`, depth: 1},
		{name: "nested key after its object", in: `{"a":{"b":1,"c":{"d":1}},"d":2,"c":3,"b":4}`, depth: 3},
		{name: "duplicate after a nested object", in: `{"a":{"b":1,"c":{"d":1}},"d":2,"a":3}`, depth: 3, err: "duplicate key"},
		{name: "duplicate inside after a sibling object", in: `{"x":[{"a":1},{"b":{"c":1},"c":2,"b":3}]}`, depth: 4, err: "duplicate key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Validate([]byte(tt.in), tt.depth)
			if tt.err == "" {
				if err != nil {
					t.Fatalf("Validate(%q) = %v, want nil", tt.in, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("Validate(%q) = %v, want error containing %q", tt.in, err, tt.err)
			}
			var se *SyntaxError
			if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(tt.in) {
				t.Fatalf("Validate(%q) error %v is not a *SyntaxError with an offset in range", tt.in, err)
			}
		})
	}
}

// TestValidateManyKeys exercises the switch from pairwise key comparison to
// a map in large objects.
func TestValidateManyKeys(t *testing.T) {
	t.Parallel()
	build := func(n int, dup string) []byte {
		var sb strings.Builder
		sb.WriteString("{")
		for k := range n {
			if k > 0 {
				sb.WriteString(",")
			}
			sb.WriteString(`"` + keyName(k) + `":1`)
		}
		if dup != "" {
			sb.WriteString(`,"` + dup + `":2`)
		}
		sb.WriteString("}")
		return []byte(sb.String())
	}
	tests := []struct {
		name string
		in   []byte
		dup  bool
	}{
		{name: "small unique", in: build(10, "")},
		{name: "large unique", in: build(1000, "")},
		{name: "small duplicate", in: build(10, "ka0"), dup: true},
		{name: "large duplicate early key", in: build(1000, "ka0"), dup: true},
		{name: "large duplicate escaped", in: build(1000, `k\u00610`), dup: true},
		{name: "large duplicate late key", in: build(1000, keyName(999)), dup: true},
		{name: "large duplicate at switch", in: build(1000, keyName(quadraticKeys)), dup: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !json.Valid(tt.in) {
				t.Fatal("test input is not valid JSON")
			}
			err := Validate(tt.in, 1)
			if got := err != nil; got != tt.dup {
				t.Fatalf("Validate error = %v, want duplicate %v", err, tt.dup)
			}
		})
	}
}

// keyName returns the k-th key of a generated object.
func keyName(k int) string {
	return "k" + strings.Repeat("x", k%7) + string(rune('a'+k%26)) + itoa(k)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestValidateDeepNesting(t *testing.T) {
	t.Parallel()
	deep := []byte(strings.Repeat("[", 100000) + strings.Repeat("]", 100000))
	if err := Validate(deep, 64); err == nil || !strings.Contains(err.Error(), "nesting too deep") {
		t.Fatalf("Validate(deep, 64) = %v, want nesting error", err)
	}
	if _, err := SkipValue(deep, 0); err == nil || !strings.Contains(err.Error(), "nesting too deep") {
		t.Fatalf("SkipValue(deep) = %v, want nesting error", err)
	}
	if err := Validate(deep, 1<<40); err == nil || !strings.Contains(err.Error(), "nesting too deep") {
		t.Fatalf("Validate(deep, huge) = %v, want the MaxDepth ceiling to apply", err)
	}
	atLimit := []byte(strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth))
	if err := Validate(atLimit, MaxDepth); err != nil {
		t.Fatalf("Validate at MaxDepth = %v", err)
	}
}

// TestScanStringPositions puts each kind of byte scanString must look at
// (quote, escape, bad escape, control character, UTF-8 good and bad) at
// every position of strings up to 40 bytes long, on both sides of its
// 8- and 16-byte steps, and compares Validate with encoding/json.
func TestScanStringPositions(t *testing.T) {
	t.Parallel()
	for _, ins := range []string{`\"`, `\\`, `\/`, `\n`, `\u00e9`, `\x`, `\u12g4`, "\x01", "\x7f", "é", "日", "\xff", "\xe6\x97", `"`} {
		for n := range 40 {
			for at := 0; at <= n; at++ {
				s := `["` + strings.Repeat("a", at) + ins + strings.Repeat("b", n-at) + `",1]`
				err := Validate([]byte(s), 2)
				want := json.Valid([]byte(s)) && utf8.ValidString(s)
				if (err == nil) != want {
					t.Fatalf("Validate(%q) = %v, want valid=%v", s, err, want)
				}
			}
		}
	}
}

// TestScanStringLong compares scanString with a byte-at-a-time reader on
// strings long enough for its prose path (a quote found ahead, the bytes
// before it checked in long strides), with two or three bytes to look at
// anywhere in them (escaped quotes before the real one, runes, control
// characters, bad UTF-8) and with no closing quote: the same end, the same
// escaped flag, the same error offset.
func TestScanStringLong(t *testing.T) {
	t.Parallel()
	ins := []string{`\"`, `\\`, `\u00e9`, `\x`, "\x01", "é", "日", "\xff", "\xe6\x97", `"`, "\x7f"}
	for _, n := range []int{17, 31, 32, 33, 47, 64, 100} {
		for a, x := range ins {
			for _, y := range ins[a:] {
				for at := 0; at <= n; at += 3 {
					for at2 := at; at2 <= n; at2 += 7 {
						body := strings.Repeat("a", at) + x + strings.Repeat("b", at2-at) + y + strings.Repeat("c", n-at2)
						for _, s := range []string{`"` + body + `"`, `"` + body, `"` + body + `"` + strings.Repeat("d", 40) + `"`} {
							b := []byte(s)
							end, esc, err := scanString(b, 0)
							wEnd, wEsc, wOff := refScanString(b)
							var se *SyntaxError
							switch {
							case wOff >= 0 && (!errors.As(err, &se) || se.Offset != wOff):
								t.Fatalf("scanString(%q) = %d, %v; want an error at %d", s, end, err, wOff)
							case wOff < 0 && (err != nil || end != wEnd || esc != wEsc):
								t.Fatalf("scanString(%q) = %d, %v, %v; want %d, %v", s, end, esc, err, wEnd, wEsc)
							}
						}
					}
				}
			}
		}
	}
}

// refScanString reads the string at b[0] == '"' a byte at a time: the end
// past its closing quote and whether it holds escapes, or the offset of
// its first error (-1: none).
func refScanString(b []byte) (end int, escaped bool, errOff int) {
	for i := 1; i < len(b); {
		switch c := b[i]; {
		case c == '"':
			return i + 1, escaped, -1
		case c == '\\':
			escaped = true
			j, err := scanEscape(b, i)
			if err != nil {
				var se *SyntaxError
				errors.As(err, &se)
				return 0, false, se.Offset
			}
			i = j
		case c < 0x20:
			return 0, false, i
		case c < 0x80:
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size <= 1 {
				return 0, false, i
			}
			i += size
		}
	}
	return 0, false, len(b)
}

// TestKeyPositions puts each kind of byte a member name may hold or must
// not (quote, escapes, control characters, UTF-8 good and bad) at every
// position of names up to 20 bytes long, on both sides of the eight bytes
// validator.key reads without a call, and compares Validate with
// encoding/json; and a name equal to the one before it by an escape there
// is a duplicate.
func TestKeyPositions(t *testing.T) {
	t.Parallel()
	for _, ins := range []string{`\"`, `\\`, `\n`, `\u0061`, `\x`, "\x01", "é", "\xff", "\xe6\x97", `"`} {
		for n := range 20 {
			for at := 0; at <= n; at++ {
				name := strings.Repeat("a", at) + ins + strings.Repeat("b", n-at)
				for _, s := range []string{`{"` + name + `":1}`, `{"x":0,"` + name + `":1,"y":2}`} {
					err := Validate([]byte(s), 2)
					want := json.Valid([]byte(s)) && utf8.ValidString(s)
					if (err == nil) != want {
						t.Fatalf("Validate(%q) = %v, want valid=%v", s, err, want)
					}
				}
			}
			plain := strings.Repeat("a", n+1)
			dup := `{"` + plain + `":1,"` + plain[:n] + `\u0061":2}`
			if err := Validate([]byte(dup), 2); err == nil {
				t.Fatalf("Validate(%q) accepted a duplicate spelled with an escape", dup)
			}
		}
	}
}

// TestSpecialExact: in every word of eight bytes with one or two bytes of
// any value among plain ones, the lowest byte special marks is the first
// quote, backslash, control character or non-ASCII byte, and no byte is
// marked when there is none: what scanString relies on.
func TestSpecialExact(t *testing.T) {
	t.Parallel()
	look := func(c byte) bool { return c < 0x20 || c >= 0x80 || c == '"' || c == '\\' }
	for v1 := range 256 {
		for v2 := range 256 {
			for k1 := range 8 {
				for k2 := k1 + 1; k2 < 8; k2++ {
					w := []byte("aZ09 ~az")
					w[k1], w[k2] = byte(v1), byte(v2)
					want := -1
					for k, c := range w {
						if look(c) {
							want = k
							break
						}
					}
					m := special(binary.LittleEndian.Uint64(w))
					got := -1
					if m != 0 {
						got = bits.TrailingZeros64(m) >> 3
					}
					if got != want {
						t.Fatalf("special(%q): first byte to look at %d, want %d", w, got, want)
					}
				}
			}
		}
	}
}
