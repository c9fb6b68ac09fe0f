package main

import (
	"strings"
	"testing"
)

// TestAuditQueryPurposeAsRecordedQA28C: ds4p audit query --purpose reads
// the purpose as the proxy reads a token's before recording it, so a
// TEFCA code or a system-qualified code finds the entries recorded under
// its v3-ActReason code instead of none, and a code in another case is
// warned of.
func TestAuditQueryPurposeAsRecordedQA28C(t *testing.T) {
	dir := ledgerDir(t, 3, 0) // every entry states TREAT
	for _, p := range []string{"TREAT", "T-TREAT", "http://terminology.hl7.org/CodeSystem/v3-ActReason|TREAT", "urn:oid:2.16.840.1.113883.5.8|TREAT"} {
		code, out, errOut := runCLI("audit", "query", "--data", dir, "--purpose", p)
		if n := strings.Count(out, "\n"); code != 0 || n != 3 {
			t.Errorf("--purpose %s: exit %d, %d entries (stderr %q); want the 3 TREAT entries", p, code, n, errOut)
		}
	}
	code, out, errOut := runCLI("audit", "query", "--data", dir, "--purpose", "treat")
	if code != 0 || out != "" || !strings.Contains(errOut, "for TREAT give --purpose TREAT") {
		t.Errorf("--purpose treat: exit %d, out %q, stderr %q; want no entries and a warning naming TREAT", code, out, errOut)
	}
	if code, _, errOut := runCLI("audit", "query", "--data", dir, "--purpose", " "); code != 2 {
		t.Errorf("--purpose blank: exit %d (stderr %q); want a usage error", code, errOut)
	}
}
