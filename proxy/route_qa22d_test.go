package proxy

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// TestSplitPathIsSplit holds splitPath to strings.Split, with and without
// room for every segment, and parseFHIRPath of a read to no allocation
// (three parses a read, one []string each before QA round 22).
func TestSplitPathIsSplit(t *testing.T) {
	for _, rest := range []string{"", "a", "Observation/1", "a/b/c", "Patient/1/_history/2", "a/b/c/d/e", "a//b", "/", "//", "a/", "/a",
		"a/b/c/d/e/f/g/h", strings.Repeat("x/", 40)} {
		want := strings.Split(rest, "/")
		if rest == "" {
			want = nil
		}
		for _, room := range []int{0, 1, 4, 8} {
			got := splitPath(make([]string, 0, room), rest)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("splitPath(room %d, %q) = %q, want %q", room, rest, got, want)
			}
		}
	}
	var req fhirRequest
	var err error
	if n := testing.AllocsPerRun(100, func() { req, err = parseFHIRPath(http.MethodGet, "/Observation/123") }); n != 0 || err != nil || req.Interaction != Read || req.ID != "123" {
		t.Errorf("parseFHIRPath of a read: %v allocations, %+v, %v", n, req, err)
	}
	// Five segments or more: refused as before, an invalid one first.
	if _, err := parseFHIRPath(http.MethodGet, "Patient/1/_history/2/x"); err == nil {
		t.Error("a five-segment path parsed")
	}
	if _, err := parseFHIRPath(http.MethodGet, "Patient/1/_history/2/.."); err == nil || !strings.Contains(err.Error(), "not a FHIR REST path") {
		t.Errorf("a five-segment path with a dot segment: %v", err)
	}
}

// TestCopyBuffersRecycle: the reverse proxy's copy buffers come back from
// the pool without an allocation, whole.
func TestCopyBuffersRecycle(t *testing.T) {
	copyBuffers.Put(copyBuffers.Get())
	if n := testing.AllocsPerRun(100, func() { copyBuffers.Put(copyBuffers.Get()) }); n != 0 {
		t.Errorf("Get and Put: %v allocations, want none", n)
	}
	if b := copyBuffers.Get(); len(b) != 32<<10 {
		t.Errorf("a buffer of %d bytes", len(b))
	}
	copyBuffers.Put(make([]byte, 10)) // too short: dropped, never handed out
	for range 10 {
		if b := copyBuffers.Get(); len(b) != 32<<10 {
			t.Fatalf("a buffer of %d bytes after a short one was put", len(b))
		}
	}
}
