package labels_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

func qa33fGzip(b []byte) []byte {
	var out bytes.Buffer
	w, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// qa33fManyBombs is a DocumentReference of n attachments, each a gzip of
// 64 KiB of '{' (a JSON document that never closes).
func qa33fManyBombs(n int) string {
	one := base64.StdEncoding.EncodeToString(qa33fGzip(bytes.Repeat([]byte("{\"a\":["), 64<<10/6)))
	var b strings.Builder
	b.WriteString(`{"resourceType":"DocumentReference","id":"d1","status":"current","content":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"attachment":{"contentType":"application/gzip","data":"` + one + `"}}`)
	}
	b.WriteString(`]}`)
	return b.String()
}

// BenchmarkInflateCostQA33F: a resource of many small gzip attachments
// cost the labeller 64 KiB inflated for each (each had its own budget of
// 32 times its size plus 64 KiB): 1,000 attachments of 140 bytes inflated
// 64 MB, allocated 171 MB and took ~3 s. The resource has one budget now,
// which TestInflateBudget checks; this measures what labelling such a
// resource costs, alone and in a search body (Batch.AddChecked, which
// walks the rest of the body): ~15 MB allocated (~40 under -race, which
// pools nothing), where the budget of each attachment allocated 171 MB.
func BenchmarkInflateCostQA33F(b *testing.B) {
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules()})
	if err != nil {
		b.Fatal(err)
	}
	res := qa33fManyBombs(1000)
	b.Run("alone", func(b *testing.B) {
		in := []byte(res)
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		for i := 0; i < b.N; i++ {
			if _, err := l.Label(in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("search body", func(b *testing.B) {
		body := []byte(`{"resourceType":"Bundle","type":"searchset","entry":[{"resource":` + res + `}]}`)
		start := bytes.Index(body, []byte(`{"resourceType":"DocumentReference"`))
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for i := 0; i < b.N; i++ {
			bt := l.NewBatch()
			var r labels.Result
			if _, _, err := bt.AddChecked(body, start, 100, &r); err != nil {
				b.Fatal(err)
			}
			bt.Finish()
		}
	})
	b.Run("ordinary 200 KiB text", func(b *testing.B) {
		in := []byte(`{"resourceType":"DocumentReference","id":"d1","status":"current","content":[{"attachment":{"contentType":"text/plain","data":"` + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("x"), 200<<10)) + `"}}]}`)
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		for i := 0; i < b.N; i++ {
			if _, err := l.Label(in); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestZipLargeMemberFirstQA33F: an IHE XDM package holding a scanned PDF
// of more than 16 MiB before its C-CDA coded F11.20: the PDF, which the
// labeller does not read, was inflated whole, spent the budget, and the
// C-CDA went out unread (ordinary).
func TestZipLargeMemberFirstQA33F(t *testing.T) {
	l, err := labels.NewLabeller(labels.Options{Rules: labels.DefaultRules()})
	if err != nil {
		t.Fatal(err)
	}
	cda := `<?xml version="1.0"?><ClinicalDocument xmlns="urn:hl7-org:v3"><component><structuredBody><component><section><entry><observation classCode="OBS" moodCode="EVN"><value xsi:type="CD" code="F11.20" codeSystem="2.16.840.1.113883.6.90"/></observation></entry></section></component></structuredBody></component></ClinicalDocument>`
	pdf := make([]byte, 17<<20)
	copy(pdf, "%PDF-1.7\n")
	x := uint64(88172645463325252)
	for i := 16; i < len(pdf); i += 8 { // xorshift: incompressible, as a scan's images are
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		for k := 0; k < 8 && i+k < len(pdf); k++ {
			pdf[i+k] = byte(x >> (8 * k))
		}
	}
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range []struct {
		name string
		data []byte
	}{{"METADATA.XML", []byte("<x/>")}, {"IHE_XDM/SUBSET01/DOC0001.PDF", pdf}, {"IHE_XDM/SUBSET01/DOC0002.XML", []byte(cda)}} {
		w, _ := zw.Create(f.name)
		w.Write(f.data)
	}
	zw.Close()
	if !qa32aHasSUD(t, l, qa33fDocRef("application/zip", b.Bytes())) {
		t.Error("the C-CDA after a 17 MiB PDF: not SUD")
	}
}
