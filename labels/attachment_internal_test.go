package labels

import (
	"bytes"
	"testing"
)

// FuzzXMLCodes: the attachment scanner ends on any bytes, and reports only
// values that stand in the document.
func FuzzXMLCodes(f *testing.F) {
	f.Add([]byte(`<a code="F11.20" codeSystem="2.16.840.1.113883.6.90"/>`))
	f.Add([]byte(`<a code='x' b:codeSystem = "1.2" c="'>"/><!-- <b code="y" codeSystem="3"/> --><![CDATA[<c code="z" codeSystem="4"/>]]><?pi x?>`))
	f.Add([]byte(`<a code="x" codeSystem=`))
	f.Add([]byte(`<<<>>"<a code codeSystem="1" code="2"`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		xmlCodes(doc, func(system, code []byte) {
			if len(system) == 0 || len(code) == 0 || !bytes.Contains(doc, code) || !bytes.Contains(doc, system) {
				t.Fatalf("reported %q %q from %q", system, code, doc)
			}
		})
	})
}

// TestXMLCodesSkipsWhatIsNoTag: codes in comments, CDATA and processing
// instructions are not the document's; a prefixed attribute is.
func TestXMLCodesSkipsWhatIsNoTag(t *testing.T) {
	t.Parallel()
	doc := []byte(`<?xml version="1.0"?><!-- <a code="c1" codeSystem="s"/> --><![CDATA[<a code="c2" codeSystem="s"/>]]>` +
		`<v:value xsi:type="CD" v:codeSystem="s" code="c3" title="a>b"/><x code="c4"/><y codeSystem="s"/>`)
	var got []string
	xmlCodes(doc, func(system, code []byte) { got = append(got, string(system)+"|"+string(code)) })
	if len(got) != 1 || got[0] != "s|c3" {
		t.Errorf("xmlCodes = %v, want [s|c3]", got)
	}
}
