package fjson

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestFoldedDuplicate(t *testing.T) {
	for in, dup := range map[string]bool{
		`{"entry":[],"Entry":[]}`:                                     true,
		`{"a":[{"request":{"method":"PUT","METHOD":"GET"}}]}`:         true,
		`{"request":1,"requeſt":2}`:                                   true, // U+017F folds to s
		`{"kind":1,"\u212aind":2}`:                                    true, // the Kelvin sign folds to k
		`{"p\u0061th":1,"PATH":2}`:                                    true,
		`{"x":{"y":{"z":[{"op":"remove","path":"/a","Path":"/b"}]}}}`: true,
		`{"entry":[],"request":{},"resource":{"entry":1}}`:            false,
		`{"valueString":"a","_valueString":{}}`:                       false,
		`{"a":{"b":1},"c":{"b":1}}`:                                   false,
		`[{"a":1},{"A":1}]`:                                           false,
		`"Entry"`:                                                     false,
	} {
		err := FoldedDuplicate([]byte(in))
		if (err != nil) != dup {
			t.Errorf("FoldedDuplicate(%s) = %v, want duplicate %v", in, err, dup)
		}
	}
}

// TestFoldKeyIsEncodingJSONs: names FoldedDuplicate calls equal are the
// names encoding/json matches to one field, and the others are not.
func TestFoldKeyIsEncodingJSONs(t *testing.T) {
	type s struct {
		Request int `json:"request"`
	}
	for _, name := range []string{"request", "REQUEST", "requeſt", "Request", "requesT", "reque\u017ft", "requestt", "requst", "réquest"} {
		var v s
		_ = json.Unmarshal([]byte(`{"`+name+`":1}`), &v)
		matched := v.Request == 1
		if same := bytes.Equal(foldKey([]byte(name)), foldKey([]byte("request"))); same != matched {
			t.Errorf("%q: folded equal %v, encoding/json matched %v", name, same, matched)
		}
	}
}
