package fjson

import (
	"strings"
	"testing"
)

// TestScanSpecial32: on every byte value at every position of one, two and
// three whole 32-byte blocks of plain bytes (and with a partial block
// after them, which it must not read), scanSpecial32 returns the first byte
// to look at, or the bytes in whole blocks when there is none.
func TestScanSpecial32(t *testing.T) {
	if !haveAVX2 {
		t.Skip("no AVX2 on this CPU: scanString reads eight bytes at a time, which TestSpecialExact covers")
	}
	look := func(c byte) bool { return c < 0x20 || c >= 0x80 || c == '"' || c == '\\' }
	plain := strings.Repeat("aZ09 ~az!#$%&'()*+,-./:;<=>?@[]^_`{|}", 4)
	for _, n := range []int{0, 1, 31, 32, 33, 63, 64, 95, 96, 100} {
		b := []byte(plain[:n])
		whole := n &^ 31
		if got := scanSpecial32(b); got != whole {
			t.Fatalf("n=%d, all plain: %d, want %d", n, got, whole)
		}
		for at := range n {
			for v := range 256 {
				b := []byte(plain[:n])
				b[at] = byte(v)
				want := whole
				if look(byte(v)) && at < whole {
					want = at
				}
				if got := scanSpecial32(b); got != want {
					t.Fatalf("n=%d, byte %#x at %d: %d, want %d", n, v, at, got, want)
				}
			}
		}
	}
}
