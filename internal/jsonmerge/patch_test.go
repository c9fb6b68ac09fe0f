package jsonmerge

import (
	"bytes"
	"errors"
	"testing"
)

func TestApplyPatch(t *testing.T) {
	doc := `{"resourceType":"ExplanationOfBenefit","id":"e1","diagnosis":[{"sequence":1},{"sequence":3}],"total":{"value":60.40},"a/b":{"~x":1}}`
	cases := []struct{ name, patch, want string }{
		{"replace in an array", `[{"op":"replace","path":"/diagnosis/1/sequence","value":4}]`,
			`{"resourceType":"ExplanationOfBenefit","id":"e1","diagnosis":[{"sequence":1},{"sequence":4}],"total":{"value":60.40},"a/b":{"~x":1}}`},
		{"add at the end and in the middle", `[{"op":"add","path":"/diagnosis/-","value":{"sequence":9}},{"op":"add","path":"/diagnosis/0","value":{"sequence":0}}]`,
			`{"resourceType":"ExplanationOfBenefit","id":"e1","diagnosis":[{"sequence":0},{"sequence":1},{"sequence":3},{"sequence":9}],"total":{"value":60.40},"a/b":{"~x":1}}`},
		{"remove", `[{"op":"remove","path":"/diagnosis/0"},{"op":"remove","path":"/total"}]`,
			`{"resourceType":"ExplanationOfBenefit","id":"e1","diagnosis":[{"sequence":3}],"a/b":{"~x":1}}`},
		{"escaped tokens", `[{"op":"replace","path":"/a~1b/~0x","value":"<b>"}]`,
			`{"resourceType":"ExplanationOfBenefit","id":"e1","diagnosis":[{"sequence":1},{"sequence":3}],"total":{"value":60.40},"a/b":{"~x":"<b>"}}`},
	}
	for _, c := range cases {
		out, err := ApplyPatch([]byte(doc), []byte(c.patch))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		sameJSON(t, out, c.want)
	}
	// Precision survives.
	out, err := ApplyPatch([]byte(doc), []byte(`[{"op":"remove","path":"/diagnosis"}]`))
	if err != nil || !bytes.Contains(out, []byte(`60.40`)) || bytes.Contains(out, []byte(`\u003c`)) {
		t.Fatalf("%s %v", out, err)
	}
	for _, bad := range []string{
		`[{"op":"replace","path":"/diagnosis/2","value":1}]`,
		`[{"op":"remove","path":"/nope"}]`,
		`[{"op":"replace","path":"/id/x","value":1}]`,
		`[{"op":"add","path":"/diagnosis/01","value":1}]`,
		`[{"op":"move","from":"/id","path":"/x"}]`,
		`[{"op":"test","path":"/id","value":"e1"}]`,
		`[{"op":"remove","path":""}]`,
		`[{"op":"add","path":"/x"}]`,
		`{"op":"add"}`,
	} {
		var pe *PatchError
		if _, err := ApplyPatch([]byte(doc), []byte(bad)); !errors.As(err, &pe) {
			t.Errorf("%s: err %v, want a PatchError", bad, err)
		}
	}
}

// Members keep their order and values their bytes: a patched Patient reads
// as one updated by hand, whatever path it went.
func TestApplyPatchKeepsOrderAndBytes(t *testing.T) {
	doc := `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe"}],"birthDate":"1970-01-01","x":1.50}`
	out, err := ApplyPatch([]byte(doc), []byte(`[{"op":"add","path":"/gender","value":"female"},{"op":"replace","path":"/name/0/family","value":"Doe-Smith"}]`))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"resourceType":"Patient","id":"p1","name":[{"family":"Doe-Smith"}],"birthDate":"1970-01-01","x":1.50,"gender":"female"}`; string(out) != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
}
