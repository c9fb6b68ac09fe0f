package proxy

import (
	"bytes"
	"io"
	"testing"
)

// TestRecycledOutputShowsNothingOfAnEarlierOne: an output buffer goes back
// to the pool when its body is closed, and a shorter response written into
// it later reads back exactly, nothing of the earlier one after it.
func TestRecycledOutputShowsNothingOfAnEarlierOne(t *testing.T) {
	first := bytes.Repeat([]byte("A"), 2*minPooledOut)
	buf := append(outBuffer(len(first)), first...)
	rb := newRecycledBody(buf)
	got, err := io.ReadAll(rb)
	if err != nil || !bytes.Equal(got, first) {
		t.Fatalf("first body: %d bytes, %v", len(got), err)
	}
	if err := rb.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rb.Close(); err != nil { // a second Close recycles nothing twice
		t.Fatal(err)
	}
	if n, err := rb.Read(make([]byte, 8)); n != 0 || err != io.EOF {
		t.Fatalf("read after Close: %d, %v; want 0, EOF", n, err)
	}
	second := []byte(`{"resourceType":"Bundle"}`)
	out := append(outBuffer(minPooledOut), second...)
	got, err = io.ReadAll(newRecycledBody(out))
	if err != nil || !bytes.Equal(got, second) {
		t.Fatalf("second body %q, %v; want %q", got, err, second)
	}
}

func TestSharesArray(t *testing.T) {
	body := make([]byte, 10, 16)
	for _, tc := range []struct {
		a, b []byte
		want bool
	}{
		{body, body, true},
		{body[2:5], body, true},
		{body, make([]byte, 10, 16), false},
		{nil, body, false},
		{body[:0:0], body, false},
	} {
		if got := sharesArray(tc.a, tc.b); got != tc.want {
			t.Errorf("sharesArray(len %d cap %d, len %d cap %d) = %v, want %v", len(tc.a), cap(tc.a), len(tc.b), cap(tc.b), got, tc.want)
		}
	}
}

// TestReadAllWithoutLengthReusesCleanly: a body of unknown length (chunked
// or gzip) is read into a recycled buffer, which may be larger and hold an
// earlier body; what readAll returns is exactly the new body, and the limit
// still applies.
func TestReadAllWithoutLengthReusesCleanly(t *testing.T) {
	recycleOut(bytes.Repeat([]byte("X"), 4*minPooledOut))
	for _, n := range []int{0, 10, minPooledOut + 3, 3 * minPooledOut} {
		body := bytes.Repeat([]byte("b"), n)
		got, err := readAll(bytes.NewReader(body), -1, false, 1<<30)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("readAll of %d bytes: %d bytes, %v", n, len(got), err)
		}
		recycleOut(got)
	}
	got, err := readAll(bytes.NewReader(make([]byte, 100)), -1, false, 40)
	if err != nil || len(got) != 41 {
		t.Fatalf("readAll over the limit: %d bytes, %v; want the limit + 1", len(got), err)
	}
}
