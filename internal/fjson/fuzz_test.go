package fjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"unicode/utf8"
)

// fuzzDepth matches encoding/json's own nesting limit, so that the two
// validators can be compared on deep input too.
const fuzzDepth = MaxDepth

// FuzzValidate compares Validate with encoding/json.Valid. The deliberate
// differences: Validate also rejects duplicate keys and invalid UTF-8 inside
// strings (RFC 8259 §8.1), which encoding/json accepts.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{
		`{"resourceType":"Condition","code":{"coding":[{"system":"http://snomed.info/sct","code":"5602001"}]}}`,
		`{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, `[60.40,-0,1e-5,true,false,null]`, "\"\xff\"", `"\ud800"`,
		`{"a":[1,{"b":"c"}],}`, ` {} `, `01`, `[[[[]]]]`, "\"\t\"", `"\u00"`, `{"a" 1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		err := Validate(b, fuzzDepth)
		want := json.Valid(b) && utf8.Valid(b) && !hasDuplicateKeys(b)
		if (err == nil) != want {
			t.Fatalf("Validate(%q) = %v, reference says valid=%v", b, err, want)
		}
		var se *SyntaxError
		if err != nil && (!errors.As(err, &se) || se.Offset < 0 || se.Offset > len(b)) {
			t.Fatalf("Validate(%q) = %v: not a SyntaxError with an offset in range", b, err)
		}
		end, skipErr := SkipValue(b, 0)
		if want && (skipErr != nil || SkipSpace(b, end) != len(b)) {
			t.Fatalf("SkipValue(%q) = %d, %v on valid input", b, end, skipErr)
		}
	})
}

// hasDuplicateKeys reports whether any object in the valid JSON document b
// holds a key twice, using encoding/json's tokenizer as an independent
// reference.
func hasDuplicateKeys(b []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		object    bool
		expectKey bool
		keys      map[string]bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF || err != nil {
			return false
		}
		top := (*frame)(nil)
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.object && top.expectKey {
			if k, ok := tok.(string); ok {
				if top.keys[k] {
					return true
				}
				top.keys[k] = true
				top.expectKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			if top != nil && top.object {
				top.expectKey = true
			}
			stack = append(stack, &frame{object: true, expectKey: true, keys: map[string]bool{}})
		case json.Delim('['):
			if top != nil && top.object {
				top.expectKey = true
			}
			stack = append(stack, &frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		default:
			if top != nil && top.object {
				top.expectKey = true
			}
		}
	}
}
