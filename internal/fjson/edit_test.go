package fjson

import (
	"bytes"
	"testing"
)

func TestApply(t *testing.T) {
	t.Parallel()
	src := `{"id":"1","meta":{"security":[]},"value":60.40}`
	tests := []struct {
		name  string
		edits []Edit
		want  string
		err   string
	}{
		{name: "no edits is byte-identical", want: src},
		{
			name:  "insert",
			edits: []Edit{{Start: 30, End: 30, Data: []byte(`{"code":"R"}`)}},
			want:  `{"id":"1","meta":{"security":[{"code":"R"}]},"value":60.40}`,
		},
		{
			name:  "replace and delete",
			edits: []Edit{{Start: 6, End: 9, Data: []byte(`"2"`)}, {Start: 32, End: 46}},
			want:  `{"id":"2","meta":{"security":[]}}`,
		},
		{
			name:  "adjacent edits",
			edits: []Edit{{Start: 0, End: 1, Data: []byte("{ ")}, {Start: 1, End: 1, Data: []byte(`"x":0,`)}},
			want:  `{ "x":0,"id":"1","meta":{"security":[]},"value":60.40}`,
		},
		{name: "overlap", edits: []Edit{{Start: 2, End: 6}, {Start: 5, End: 7}}, err: "edit 1 overlaps"},
		{name: "out of order", edits: []Edit{{Start: 6, End: 6}, {Start: 2, End: 2}}, err: "edit 1 overlaps"},
		{name: "negative", edits: []Edit{{Start: -1, End: 0}}, err: "edit 0 overlaps"},
		{name: "reversed", edits: []Edit{{Start: 6, End: 2}}, err: "edit 0 ends before"},
		{name: "past end", edits: []Edit{{Start: 6, End: 1000}}, err: "edit 0 ends past"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			prefix := []byte("prefix:")
			got, err := Apply(bytes.Clone(prefix), []byte(src), tt.edits)
			checkErr(t, err, tt.err)
			want := string(prefix) + tt.want
			if tt.err != "" {
				want = string(prefix)
			}
			if string(got) != want {
				t.Fatalf("Apply = %s, want %s", got, want)
			}
		})
	}
}

func TestApplyDoesNotAliasSrc(t *testing.T) {
	t.Parallel()
	src := []byte(`[1,2,3]`)
	out, err := Apply(nil, src, []Edit{{Start: 1, End: 2, Data: []byte("9")}})
	if err != nil {
		t.Fatal(err)
	}
	out[0] = 'X'
	if string(src) != `[1,2,3]` {
		t.Fatalf("Apply wrote into src: %s", src)
	}
}

// FuzzApply checks Apply against a naive splice built from strings, with
// edits derived from the fuzz input.
func FuzzApply(f *testing.F) {
	f.Add([]byte(`{"a":1}`), []byte{1, 2, 0, 3, 3, 2})
	f.Add([]byte(`[]`), []byte{0, 0, 5})
	f.Add([]byte(`x`), []byte{1, 0, 0})
	f.Fuzz(func(t *testing.T, src, spec []byte) {
		edits := editsFrom(spec)
		got, err := Apply(nil, src, edits)
		want, ok := naiveApply(src, edits)
		if ok != (err == nil) {
			t.Fatalf("Apply error %v, naive ok %v for edits %v on %d bytes", err, ok, edits, len(src))
		}
		if ok && !bytes.Equal(got, want) {
			t.Fatalf("Apply = %q, want %q", got, want)
		}
	})
}

// editsFrom turns triples of bytes into edits (start, length, data length).
func editsFrom(spec []byte) []Edit {
	var edits []Edit
	for k := 0; k+2 < len(spec); k += 3 {
		start := int(spec[k])
		edits = append(edits, Edit{
			Start: start,
			End:   start + int(spec[k+1]%8) - 1,
			Data:  bytes.Repeat([]byte{'a' + byte(k%26)}, int(spec[k+2]%5)),
		})
	}
	return edits
}

// naiveApply splices edits into src the slow way, and reports whether the
// edits are acceptable.
func naiveApply(src []byte, edits []Edit) ([]byte, bool) {
	out, at := "", 0
	for _, e := range edits {
		if e.Start < at || e.End < e.Start || e.End > len(src) {
			return nil, false
		}
		out += string(src[at:e.Start]) + string(e.Data)
		at = e.End
	}
	return []byte(out + string(src[at:])), true
}
