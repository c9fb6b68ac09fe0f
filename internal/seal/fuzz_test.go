package seal

import (
	"bytes"
	"slices"
	"testing"
)

// FuzzParseKeyring checks that any text either fails or gives a ring that
// Format writes back to the same keys.
func FuzzParseKeyring(f *testing.F) {
	f.Add([]byte("0000000a AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE= active\n"))
	f.Add([]byte("# c\n0000000a AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=\n0000000b AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI= active\n"))
	f.Add([]byte("zz"))
	f.Fuzz(func(t *testing.T, text []byte) {
		r, err := ParseKeyring(text)
		if err != nil {
			return
		}
		again, err := ParseKeyring(Format(r.Keys()))
		if err != nil || again.Active() != r.Active() || !slices.Equal(again.IDs(), r.IDs()) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzOpen checks that no altered or made-up value opens, and that
// nothing panics.
func FuzzOpen(f *testing.F) {
	db, _ := openDB(f)
	s, err := Open(db, ring(f, newKey(f, true)))
	if err != nil {
		f.Fatal(err)
	}
	good := s.Seal("p", []byte("k"), []byte("plain"))
	f.Add(good, 0)
	f.Add([]byte{magic, formatVersion, 0, 0, 0, 1}, 3)
	f.Add([]byte("{}"), 1)
	f.Fuzz(func(t *testing.T, v []byte, flip int) {
		if len(v) > 0 {
			v = bytes.Clone(v)
			v[(flip%len(v)+len(v))%len(v)] ^= 0x40
		}
		if plain, err := s.Open("p", []byte("k"), v); err == nil {
			t.Fatalf("an altered or made-up value opened: %q", plain)
		}
	})
}
