package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRowsWithAndWithoutCPU: rows with the CPU column report it per
// proxy; rows written before it existed (one column fewer) are still read,
// and their CPU shows as –.
func TestRowsWithAndWithoutCPU(t *testing.T) {
	header := strings.Join(columns, "\t")
	rows := []string{
		header,
		// round upstream kind c target requests duration rps p50 p90 p99 max non2xx errors bytes hwm ledgerN ledgerMS cpu
		"1\tstatic\tread\t8\tdirect\t1000\t5\t200\t0.1\t0.2\t0.3\t1\t0\t0\t2700000\t0\t0\t0\t0",
		"1\tstatic\tread\t8\tpass-through\t1000\t5\t100\t0.5\t0.6\t0.9\t2\t0\t0\t2700000\t10240\t0\t0\t108.4",
		"1\tstatic\tread\t8\tds4p\t500\t5\t50\t2.1\t3\t9\t20\t0\t0\t1350000\t204800\t500\t1.5\t409.2",
		// the same run as an older file wrote it, without cpu_us
		"1\tstatic\tsearch\t1\tdirect\t100\t5\t20\t1\t1\t2\t3\t0\t0\t230000000\t0\t0\t0",
		"1\tstatic\tsearch\t1\tpass-through\t100\t5\t10\t2\t2\t3\t4\t0\t0\t230000000\t10240\t0\t0",
		"1\tstatic\tsearch\t1\tds4p\t50\t5\t5\t15\t16\t20\t30\t0\t0\t115000000\t204800\t50\t3.3",
	}
	path := filepath.Join(t.TempDir(), "rows.tsv")
	if err := os.WriteFile(path, []byte(strings.Join(rows, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := readRows(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 {
		t.Fatalf("read %d rows, want 6 (old rows must not be dropped)", len(got))
	}
	if got[2].cpuUS != 409.2 || got[5].cpuUS != 0 || got[5].ledgerMS != 3.3 {
		t.Fatalf("rows misread: ds4p read cpu %v, old ds4p search cpu %v ledger %v", got[2].cpuUS, got[5].cpuUS, got[5].ledgerMS)
	}
	var out strings.Builder
	write(&out, got)
	table := out.String()
	for _, want := range []string{"CPU µs/request pass / ds4p", "| 108 / 409 |", "| – / – |"} {
		if !strings.Contains(table, want) {
			t.Errorf("the table lacks %q:\n%s", want, table)
		}
	}
}
