package fjson

import (
	"errors"
	"strings"
	"testing"
)

func TestSkipValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    string
		start int
		end   int // -1: error
	}{
		{name: "number keeps spelling", in: `60.40,`, end: 5},
		{name: "leading whitespace", in: "  \n true ", end: 8},
		{name: "string with escaped quote", in: `"a\"b" x`, end: 6},
		{name: "nested", in: `{"a":[1,{"b":"]"}]} tail`, end: 19},
		{name: "from middle", in: `[1, "two", 3]`, start: 3, end: 9},
		{name: "long string crosses word boundary", in: `"` + strings.Repeat("abcdefgh", 5) + `\n"`, end: 44},
		{name: "quote inside a word", in: `"abcdefg"hij`, end: 9},
		{name: "empty input", in: ``, end: -1},
		{name: "mismatched", in: `[1}`, end: -1},
		{name: "truncated nested", in: `{"a":[1,2`, end: -1},
		{name: "garbage", in: `@`, end: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			end, err := SkipValue([]byte(tt.in), tt.start)
			if tt.end < 0 {
				if err == nil {
					t.Fatalf("SkipValue(%q) = %d, want error", tt.in, end)
				}
				return
			}
			if err != nil || end != tt.end {
				t.Fatalf("SkipValue(%q, %d) = %d, %v; want %d", tt.in, tt.start, end, err, tt.end)
			}
		})
	}
}

func TestObjectEach(t *testing.T) {
	t.Parallel()
	type member struct{ key, value string }
	tests := []struct {
		name string
		in   string
		want []member
		err  string
	}{
		{
			name: "members in order with raw keys",
			in:   ` { "b" : 60.40 , "a\u0041":[1, 2],"c":{"d":null} } `,
			want: []member{{"b", "60.40"}, {`a\u0041`, "[1, 2]"}, {"c", `{"d":null}`}},
		},
		{name: "empty", in: `{ }`},
		{name: "not an object", in: `[1]`, err: "expected object"},
		{name: "bad value", in: `{"a":tru}`, err: "invalid literal"},
		{name: "missing comma", in: `{"a":1 "b":2}`, err: "expected comma"},
		{name: "truncated", in: `{"a":1,`, err: "unexpected end"},
		{name: "missing value", in: `{"a":}`, err: "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := []byte(tt.in)
			var got []member
			err := ObjectEach(b, 0, func(key []byte, s, e int) error {
				got = append(got, member{string(key), string(b[s:e])})
				return nil
			})
			checkErr(t, err, tt.err)
			if tt.err == "" && !equalMembers(got, tt.want) {
				t.Fatalf("members = %q, want %q", got, tt.want)
			}
		})
	}
}

func equalMembers[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if a[k] != b[k] {
			return false
		}
	}
	return true
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error %v", err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want one containing %q", err, want)
	}
}

func TestArrayEach(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string
		err  string
	}{
		{name: "elements", in: `[ 1 ,"two",{"three":3},[4] ]`, want: []string{"1", `"two"`, `{"three":3}`, "[4]"}},
		{name: "empty", in: `[]`},
		{name: "not an array", in: `{}`, err: "expected array"},
		{name: "trailing comma", in: `[1,]`, err: "invalid character"},
		{name: "truncated", in: `[1`, err: "unexpected end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := []byte(tt.in)
			var got []string
			err := ArrayEach(b, 0, func(s, e int) error {
				got = append(got, string(b[s:e]))
				return nil
			})
			checkErr(t, err, tt.err)
			if tt.err == "" && !equalMembers(got, tt.want) {
				t.Fatalf("elements = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCallbackErrorsStopTheWalk(t *testing.T) {
	t.Parallel()
	stop := errors.New("stop")
	b := []byte(`{"a":1,"b":2}`)
	calls := 0
	err := ObjectEach(b, 0, func([]byte, int, int) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("ObjectEach = %v after %d calls, want stop after 1", err, calls)
	}
	calls = 0
	err = ArrayEach([]byte(`[1,2]`), 0, func(int, int) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("ArrayEach = %v after %d calls, want stop after 1", err, calls)
	}
}

func TestScanRejectsBadCallbackEnds(t *testing.T) {
	t.Parallel()
	b := []byte(`{"a":[1,2]}`)
	for _, end := range []int{0, 5, len(b) + 1} {
		_, err := ObjectScan(b, 0, func(_ []byte, _ int) (int, error) { return end, nil })
		checkErr(t, err, "invalid value end")
		_, err = ArrayScan([]byte(`[1]`), 0, func(int) (int, error) { return end, nil })
		checkErr(t, err, "invalid value end")
	}
}

func TestObjectScanDescends(t *testing.T) {
	t.Parallel()
	b := []byte(`{"outer":{"inner":[1,{"deep":"x"}]},"n":2}`)
	var keys []string
	var walk func(i int) (int, error)
	walk = func(i int) (int, error) {
		switch b[SkipSpace(b, i)] {
		case '{':
			return ObjectScan(b, i, func(k []byte, v int) (int, error) {
				keys = append(keys, string(k))
				return walk(v)
			})
		case '[':
			return ArrayScan(b, i, walk)
		}
		return SkipValue(b, i)
	}
	end, err := walk(0)
	if err != nil || end != len(b) {
		t.Fatalf("walk = %d, %v; want %d", end, err, len(b))
	}
	if want := []string{"outer", "inner", "deep", "n"}; !equalMembers(keys, want) {
		t.Fatalf("keys = %q, want %q", keys, want)
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    string
		key   string
		value string
		ok    bool
		err   string
	}{
		{name: "found", in: `{"id":"1","meta":{"versionId":"2"}}`, key: "meta", value: `{"versionId":"2"}`, ok: true},
		{name: "escaped key", in: `{"m\u0065ta":{}}`, key: "meta", value: `{}`, ok: true},
		{name: "absent", in: `{"id":"1"}`, key: "meta"},
		{name: "nested keys are not members", in: `{"a":{"meta":1}}`, key: "meta"},
		{name: "duplicate", in: `{"meta":{},"id":"1","meta":{"security":[]}}`, key: "meta", err: "duplicate key"},
		{name: "malformed after match", in: `{"meta":{},"x":}`, key: "meta", err: "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := []byte(tt.in)
			s, e, ok, err := Lookup(b, 0, tt.key)
			checkErr(t, err, tt.err)
			if ok != tt.ok || (ok && string(b[s:e]) != tt.value) {
				t.Fatalf("Lookup(%q) = %q, %v; want %q, %v", tt.key, b[s:e], ok, tt.value, tt.ok)
			}
		})
	}
}

func TestOffsetsOutOfRange(t *testing.T) {
	t.Parallel()
	b := []byte(`{"a":1}`)
	if _, err := SkipValue(b, 100); err == nil {
		t.Error("SkipValue past the end: want error")
	}
	if err := ObjectEach(b, -1, func([]byte, int, int) error { return nil }); err == nil {
		t.Error("ObjectEach at -1: want error")
	}
	if _, ok := RawString(b, 5, 100); ok {
		t.Error("RawString past the end: want false")
	}
	if _, ok := StringValue(b, 100, 101); ok {
		t.Error("StringValue past the end: want false")
	}
}
