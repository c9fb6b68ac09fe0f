package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestAuditReportSaysWhatWasPruned: a report reaching back before the prune
// checkpoint says that the disclosures until then are in the export files
// (JSON "pruned", and a warning on stderr in every format), as the admin
// API does; before, it read as though the patient's pruned disclosures
// never happened. A range after the checkpoint says nothing of it.
func TestAuditReportSaysWhatWasPruned(t *testing.T) {
	t.Parallel()
	dir := ledgerDir(t, 6, 2) // seq 1 (p1) and 2 (p2) eight years old
	if code, out, errOut := runCLI("audit", "prune", "--data", dir, "--export-dir", t.TempDir()); code != 0 || !strings.Contains(out, "pruned 2 entries") {
		t.Fatalf("prune = %d %q %q", code, out, errOut)
	}
	code, out, errOut := runCLI("audit", "report", "--data", dir, "--patient", "p1")
	var report struct {
		Disclosures []json.RawMessage `json:"disclosures"`
		Pruned      *struct {
			ThroughSeq uint64 `json:"through_seq"`
			Export     string `json:"export"`
		} `json:"pruned"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &report) != nil {
		t.Fatalf("report = %d %q %q", code, out, errOut)
	}
	if len(report.Disclosures) != 2 || report.Pruned == nil || report.Pruned.ThroughSeq != 2 || report.Pruned.Export == "" {
		t.Errorf("report says nothing of the pruned entries: %s", out)
	}
	if !strings.Contains(errOut, "pruned into the export files") {
		t.Errorf("report stderr = %q, want the pruned warning", errOut)
	}
	if code, _, errOut := runCLI("audit", "report", "--data", dir, "--patient", "p1", "--format", "csv"); code != 0 || !strings.Contains(errOut, "pruned into the export files") {
		t.Errorf("csv report = %d, stderr %q, want the pruned warning", code, errOut)
	}
	recent := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	code, out, errOut = runCLI("audit", "report", "--data", dir, "--patient", "p1", "--from", recent)
	if code != 0 || strings.Contains(out, "pruned") || errOut != "" {
		t.Errorf("report after the checkpoint = %d %q %q, want no pruned note", code, out, errOut)
	}
}
