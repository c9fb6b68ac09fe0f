package fhirmem

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"testing"
)

func TestGzip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     []Option
		encoding string
		gzipped  bool
	}{
		{"asked and enabled", []Option{WithGzip()}, "gzip", true},
		{"asked with q", []Option{WithGzip()}, "br;q=1.0, gzip;q=0.8", true},
		{"refused with q=0", []Option{WithGzip()}, "gzip;q=0", false},
		{"not asked", []Option{WithGzip()}, "identity", false},
		{"asked but disabled", nil, "gzip", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tt.opts...)
			want, _ := f.srv.Get("Patient", "pat-0")
			req, _ := http.NewRequest(http.MethodGet, f.base+"/Patient/pat-0", nil)
			req.Header.Set("Accept-Encoding", tt.encoding) // stops the client decoding it for us
			got := f.send(t, req)
			if (got.header.Get("Content-Encoding") == "gzip") != tt.gzipped {
				t.Fatalf("Content-Encoding %q, gzipped want %v", got.header.Get("Content-Encoding"), tt.gzipped)
			}
			body := got.body
			if tt.gzipped {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(body, want) {
				t.Errorf("decoded body differs from the stored resource")
			}
		})
	}
}
