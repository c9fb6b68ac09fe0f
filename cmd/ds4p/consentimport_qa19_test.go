package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFiles writes name → body into a new directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// oneConsent is cliConsent with id on one line.
func oneConsent(id string) string {
	return strings.ReplaceAll(strings.ReplaceAll(cliConsent, "ID", id), "\n", "")
}

// TestImportAgainKeepsRevocation: importing the same export twice stored
// every consent twice, and importing it after a revocation made the revoked
// consent active again (QA round 19).
func TestImportAgainKeepsRevocation(t *testing.T) {
	t.Setenv("DS4P_STORAGE_ENCRYPTION", "off")
	data := t.TempDir()
	src := writeFiles(t, map[string]string{"export.ndjson": oneConsent("c1") + "\n" + oneConsent("c2") + "\n"})
	if code, out, errOut := ds4p(t, "consent", "import", "--data", data, src); code != 0 || !strings.Contains(out, "accepted 2, rejected 0") {
		t.Fatalf("first import: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := ds4p(t, "consent", "import", "--data", data, src)
	if code != 0 || !strings.Contains(out, "accepted 0, rejected 0, unchanged 2") {
		t.Fatalf("same file again: exit %d, want 0 and nothing stored\n%s%s", code, out, errOut)
	}
	if code, out, errOut := ds4p(t, "consent", "revoke", "--data", data, "c1"); code != 0 {
		t.Fatalf("revoke: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = ds4p(t, "consent", "import", "--data", data, src)
	if code != 1 || !strings.Contains(out, "export.ndjson:1: Consent: is version 1 of the stored consent") ||
		!strings.Contains(out, "unchanged 1") || !strings.Contains(errOut, "1 of 2 consents rejected; 0 stored, 1 already stored") {
		t.Fatalf("the export after a revocation: exit %d, want 1 with line 1 refused\n%s%s", code, out, errOut)
	}
	_, out, _ = ds4p(t, "consent", "show", "--data", data, "--history", "c1")
	if !strings.Contains(out, "c1  2        inactive") || strings.Contains(out, "c1  3") {
		t.Fatalf("c1's history after the import:\n%s", out)
	}
	if _, out, _ := ds4p(t, "consent", "show", "--data", data, "--history", "c2"); strings.Contains(out, "c2  2") {
		t.Fatalf("c2 stored twice:\n%s", out)
	}
}

// TestImportHistoryBundle: a history Bundle (GET Consent/ID/_history) lists
// the newest version first; its entries were stored in that order, so the
// oldest version became the current one: a revoked consent came back
// active. A DELETE entry and a search page with a next link were passed
// over without a word (QA round 19).
func TestImportHistoryBundle(t *testing.T) {
	t.Setenv("DS4P_STORAGE_ENCRYPTION", "off")
	data := t.TempDir()
	revoked := strings.Replace(oneConsent("c1"), `"active"`, `"inactive"`, 1)
	src := writeFiles(t, map[string]string{
		"history.json": `{"resourceType":"Bundle","type":"history","entry":[` +
			`{"request":{"method":"DELETE","url":"Consent/c3"}},` +
			`{"resource":` + revoked + `,"request":{"method":"PUT","url":"Consent/c1"}},` +
			`{"resource":` + strings.Replace(oneConsent("c3"), `"active"`, `"inactive"`, 1) + `},` +
			`{"resource":` + oneConsent("c1") + `,"request":{"method":"POST","url":"Consent"}},` +
			`{"resource":` + oneConsent("c3") + `}]}`,
		"page1.json": `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"self","url":"https://ehr.example/fhir/Consent?_count=1"},` +
			`{"relation":"Next","url":"https://ehr.example/fhir/Consent?_count=1&page=2"}],"entry":[{"resource":` + oneConsent("c2") + `}]}`,
	})
	code, out, errOut := ds4p(t, "consent", "import", "--data", data, src)
	for _, want := range []string{
		"accepted 2, rejected 1",
		"skipped 3 entries of earlier versions in history Bundles",
		"history.json entry[0]: a DELETE of a Consent",
		"incomplete " + filepath.Join(src, "page1.json") + ": the Bundle has a next link",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if code != 1 || t.Failed() {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
	}
	if _, out, _ := ds4p(t, "consent", "list", "--data", data); !strings.Contains(out, "c1  1        inactive") || strings.Contains(out, "c3") {
		t.Fatalf("after importing the history, c1 should be inactive, version 1, and c3 absent:\n%s", out)
	}
	// A search page alone: what it holds is stored, and the exit says the
	// import is incomplete.
	code, out, errOut = ds4p(t, "consent", "import", "--data", data, filepath.Join(src, "page1.json"))
	if code != 1 || !strings.Contains(errOut, "incomplete: 1 Bundle was one page of a search") {
		t.Fatalf("a search page: exit %d, want 1 naming it incomplete\n%s%s", code, out, errOut)
	}
}

// TestImportReadsOn: one unreadable path (a missing file, a symlink to a
// directory, a line over the limit) ended the import without its summary,
// so the operator never learned what had been stored; a UTF-8 byte order
// mark, as Windows tools write, made a consent "not valid JSON"; gzipped
// exports and a directory without any importable file imported nothing
// and exited 0; Ctrl-C rejected every remaining consent one by one
// (QA round 19).
func TestImportReadsOn(t *testing.T) {
	t.Setenv("DS4P_STORAGE_ENCRYPTION", "off")
	data := t.TempDir()
	long := `{"resourceType":"Consent","text":"` + strings.Repeat("a", maxNDJSONLine) + `"}`
	src := writeFiles(t, map[string]string{
		"a-bom.json":    "\xef\xbb\xbf" + oneConsent("c1"),
		"b-crlf.ndjson": "\xef\xbb\xbf" + oneConsent("c2") + "\r\n\r\n" + long + "\r\n" + oneConsent("c3") + "\r\n",
		"c-export.TXT":  oneConsent("c9"),
	})
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(oneConsent("c4") + "\n"))
	zw.Close()
	if err := os.WriteFile(filepath.Join(src, "d.ndjson.gz"), gz.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(t.TempDir(), filepath.Join(src, "e-link.json")); err != nil {
		t.Fatal(err)
	}
	more := writeFiles(t, map[string]string{"f.json": oneConsent("c5")})
	code, out, errOut := ds4p(t, "consent", "import", "--data", data, src, filepath.Join(src, "missing.json"), more)
	for _, want := range []string{
		"accepted 5, rejected 1, skipped 1 file of directories",
		"b-crlf.ndjson:3: the line is longer than",
		"not read " + filepath.Join(src, "e-link.json") + ": is a directory",
		"not read " + filepath.Join(src, "missing.json") + ": no such file or directory",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if code != 1 || !strings.Contains(errOut, "1 of 6 consents rejected; the others were stored; 2 files or lines not read") || t.Failed() {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if _, out, _ := ds4p(t, "consent", "list", "--data", data); strings.Count(out, "active") != 5 || strings.Contains(out, "c9") {
		t.Fatalf("stored:\n%s", out)
	}

	code, out, errOut = ds4p(t, "consent", "import", "--data", data, t.TempDir())
	if code != 1 || !strings.Contains(errOut, "no consent found") {
		t.Fatalf("an empty directory: exit %d, want 1 saying nothing was found\n%s%s", code, out, errOut)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	code = run(ctx, []string{"consent", "import", "--data", t.TempDir(), src}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stdout.String(), "accepted 0, rejected 0\n") || !strings.Contains(stderr.String(), "interrupted") {
		t.Fatalf("interrupted: exit %d, want 1 saying so without rejecting each consent\n%s%s", code, stdout.String(), stderr.String())
	}
}

// TestImportSummaryNamesNoPatient: the summary, which CI logs keep, quoted
// patients' references, consent ids and data references from the problems
// (a consent for another patient under a stored id named both patients).
// The file and line locate the consent instead (QA round 19).
func TestImportSummaryNamesNoPatient(t *testing.T) {
	t.Setenv("DS4P_STORAGE_ENCRYPTION", "off")
	data := t.TempDir()
	jane := strings.Replace(oneConsent("jane-doe-sud"), "Patient/p1", "Patient/jane-doe", 1)
	first := writeFiles(t, map[string]string{"a.ndjson": jane + "\n"})
	if code, out, errOut := ds4p(t, "consent", "import", "--data", data, first); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	moved := strings.Replace(jane, "Patient/jane-doe", "Patient/john-roe", 1)
	badPatient := strings.Replace(oneConsent("c2"), "Patient/p1", "Patient/john roe", 1)
	badID := oneConsent("john_roe")
	badData := strings.Replace(oneConsent("c3"), `"type":"permit",`, `"type":"permit","data":[{"meaning":"instance","reference":{"reference":"urn:uuid:john-roe-hiv"}}],`, 1)
	src := writeFiles(t, map[string]string{"b.ndjson": moved + "\n" + badPatient + "\n" + badID + "\n" + badData + "\n"})
	code, out, errOut := ds4p(t, "consent", "import", "--data", data, src)
	if code != 1 || !strings.Contains(out, "accepted 0, rejected 4") || !strings.Contains(out, "b.ndjson:1: Consent.patient.reference: is not the patient") {
		t.Fatalf("exit %d, want 1 with 4 rejected\n%s%s", code, out, errOut)
	}
	for _, phi := range []string{"jane", "john", "roe"} {
		if strings.Contains(strings.ToLower(out+errOut), phi) {
			t.Errorf("the summary names %q:\n%s%s", phi, out, errOut)
		}
	}
}

// TestImportSaysWho: an import left no trace of who ran it; the history now
// names the subcommand and the user of each command-line write.
func TestImportSaysWho(t *testing.T) {
	t.Setenv("DS4P_STORAGE_ENCRYPTION", "off")
	t.Setenv("SUDO_USER", "alice")
	data := t.TempDir()
	src := writeFiles(t, map[string]string{"a.ndjson": oneConsent("c1") + "\n"})
	if code, out, errOut := ds4p(t, "consent", "import", "--data", data, src); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := ds4p(t, "consent", "revoke", "--data", data, "c1"); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	_, out, _ := ds4p(t, "consent", "show", "--data", data, "--history", "c1")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasSuffix(lines[0], "WRITTEN BY") ||
		!strings.Contains(lines[1], "ds4p consent revoke by ") || !strings.HasSuffix(lines[1], "(sudo by alice)") ||
		!strings.Contains(lines[2], "ds4p consent import by ") {
		t.Fatalf("history:\n%s", out)
	}
}

// TestImportReadsEitherShape: a pretty-printed Bundle piped to "-" (or in
// an .ndjson file) was rejected line by line, one "not valid JSON" per
// line; a Bulk Data NDJSON export saved as .json was one "not valid JSON";
// a UTF-16 file was "not valid JSON" too (QA round 19).
func TestImportReadsEitherShape(t *testing.T) {
	t.Setenv("DS4P_STORAGE_ENCRYPTION", "off")
	data := t.TempDir()
	utf16 := []byte{0xff, 0xfe}
	for _, c := range oneConsent("c9") {
		utf16 = append(utf16, byte(c), 0)
	}
	src := writeFiles(t, map[string]string{
		"a-pretty.ndjson": "{\n  \"resourceType\": \"Bundle\",\n  \"type\": \"searchset\",\n  \"entry\": [\n    {\"resource\": " +
			oneConsent("c1") + "}\n  ]\n}\n",
		"b-bulk.json":  oneConsent("c2") + "\n" + oneConsent("c3") + "\n",
		"c-utf16.json": string(utf16),
	})
	code, out, errOut := ds4p(t, "consent", "import", "--data", data, src)
	if code != 1 || !strings.Contains(out, "accepted 3, rejected 0\n") ||
		!strings.Contains(out, "not read "+filepath.Join(src, "c-utf16.json")+": is UTF-16 text") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
}

// TestImportNamesReactivations: a file that replaced stored consents said
// only "accepted N", whether it added consents, replaced them, or made a
// revoked one active again (a file from someone else, an export older
// than the revocation but edited since). The summary counts the
// replacements and lists every consent it made active again (QA round 19).
func TestImportNamesReactivations(t *testing.T) {
	t.Setenv("DS4P_STORAGE_ENCRYPTION", "off")
	data := t.TempDir()
	first := writeFiles(t, map[string]string{"a.ndjson": oneConsent("c1") + "\n" + oneConsent("c2") + "\n"})
	if code, out, errOut := ds4p(t, "consent", "import", "--data", data, first); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := ds4p(t, "consent", "revoke", "--data", data, "c1"); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	regrant := strings.Replace(oneConsent("c1"), `"status":"active",`, `"status":"active","dateTime":"2026-03-01",`, 1)
	changed := strings.Replace(oneConsent("c2"), `"status":"active",`, `"status":"active","dateTime":"2026-03-01",`, 1)
	second := writeFiles(t, map[string]string{"b.ndjson": regrant + "\n" + changed + "\n" + oneConsent("c3") + "\n"})
	code, out, errOut := ds4p(t, "consent", "import", "--data", data, second)
	if code != 0 || !strings.Contains(out, "accepted 3 (2 of them new versions of stored consents), rejected 0") ||
		!strings.Contains(out, "reactivated "+filepath.Join(second, "b.ndjson")+":1: the stored consent was inactive; this new version makes it active\n") ||
		strings.Count(out, "reactivated") != 1 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
}

// TestImportBundleNamesExact: a Bundle was read by encoding/json, which
// matches member names in any case and lets the last of two win: a file
// whose "entry" a FHIR tool shows held one consent, and whose "Entry" (or
// a second "entry") held another, imported the other. Whoever checked the
// file saw consents that were not the ones imported (QA round 19).
func TestImportBundleNamesExact(t *testing.T) {
	t.Setenv("DS4P_STORAGE_ENCRYPTION", "off")
	data := t.TempDir()
	shown := `{"resource":` + oneConsent("shown") + `}`
	hidden := `{"resource":` + oneConsent("hidden") + `}`
	src := writeFiles(t, map[string]string{
		"a.json": `{"resourceType":"Bundle","type":"collection","entry":[` + shown + `],"Entry":[` + hidden + `]}`,
		"b.json": `{"resourceType":"Bundle","type":"collection","entry":[` + shown + `],"entry":[` + hidden + `]}`,
		"c.json": `{"resourceType":"Bundle","type":"collection","Entry":[` + hidden + `]}`,
		"d.json": `{"resourceType":"Bundle","type":"collection","entry":[{"Resource":` + oneConsent("hidden") + `,"resource":{"resourceType":"Basic"}}]}`,
		"e.json": `{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"Method":"DELETE","url":"Consent/x"},"resource":` + oneConsent("hidden") + `}]}`,
	})
	code, out, errOut := ds4p(t, "consent", "import", "--data", data, src)
	if code != 1 || !strings.Contains(out, "accepted 0, rejected 5") {
		t.Fatalf("exit %d, want every Bundle refused\n%s%s", code, out, errOut)
	}
	for _, f := range []string{"a", "b", "c", "d", "e"} {
		if !strings.Contains(out, filepath.Join(src, f+".json")+": the Bundle has ") {
			t.Errorf("%s.json is not refused as a Bundle", f)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}

// TestImportNestedBundles: the Consents of a Bundle held in a Bundle (a
// collection of search pages) were counted as "entries that are not
// Consents" and not imported (QA round 19).
func TestImportNestedBundles(t *testing.T) {
	t.Setenv("DS4P_STORAGE_ENCRYPTION", "off")
	data := t.TempDir()
	page := func(id string) string {
		return `{"resource":{"resourceType":"Bundle","type":"searchset","entry":[{"resource":` + oneConsent(id) + `}]}}`
	}
	deep := `{"resourceType":"Bundle","type":"collection","entry":[{"resource":` + oneConsent("c9") + `}]}`
	for range maxBundleNesting {
		deep = `{"resourceType":"Bundle","type":"collection","entry":[{"resource":` + deep + `}]}`
	}
	src := writeFiles(t, map[string]string{
		"a.json": `{"resourceType":"Bundle","type":"collection","entry":[` + page("c1") + `,` + page("c2") + `]}`,
		"b.json": deep,
	})
	code, out, errOut := ds4p(t, "consent", "import", "--data", data, src)
	if code != 1 || !strings.Contains(out, "accepted 2, rejected 1\n") || !strings.Contains(out, "nested more than") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
}

// TestImportJSONArray: a .json file holding an array of Consents, as
// scripts write them, was one rejection, "is not a JSON object".
func TestImportJSONArray(t *testing.T) {
	t.Setenv("DS4P_STORAGE_ENCRYPTION", "off")
	data := t.TempDir()
	src := writeFiles(t, map[string]string{"list.json": "[" + oneConsent("c1") + ",\n" + oneConsent("c2") + `,{"resourceType":"Consent"}]`})
	code, out, errOut := ds4p(t, "consent", "import", "--data", data, src)
	if code != 1 || !strings.Contains(out, "accepted 2, rejected 1\n") || !strings.Contains(out, "list.json[2]: Consent.status: is required") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
}

// TestImportOtherResources: a Bulk Data export directory (Patient.ndjson,
// Observation.ndjson, Consent.ndjson) gave one rejection per Patient and
// Observation, drowning the Consents' real problems, while a Bundle entry
// whose type was misspelt ("consent") was passed over as "not a Consent".
// Resources of another FHIR type are counted and passed over; a misspelt
// or missing type is refused (QA round 19).
func TestImportOtherResources(t *testing.T) {
	t.Setenv("DS4P_STORAGE_ENCRYPTION", "off")
	data := t.TempDir()
	misspelt := strings.Replace(oneConsent("c3"), `"Consent"`, `"consent"`, 1)
	src := writeFiles(t, map[string]string{
		"Consent.ndjson": oneConsent("c1") + "\n" + strings.Replace(oneConsent("c2"), `"Consent"`, `"Consnet"`, 1) + "\n",
		"Patient.ndjson": `{"resourceType":"Patient","id":"p1"}` + "\n" + `{"resourceType":"Patient","id":"p2"}` + "\n",
		"bundle.json":    `{"resourceType":"Bundle","type":"collection","entry":[{"resource":` + misspelt + `},{"resource":{"resourceType":"Observation"}}]}`,
	})
	code, out, errOut := ds4p(t, "consent", "import", "--data", data, src)
	for _, want := range []string{
		"accepted 1, rejected 2, skipped 1 Bundle entry that is not a Consent, skipped 2 resources that are not Consents\n",
		`Consent.ndjson:2: Consent.resourceType: is "Consnet"`,
		`bundle.json entry[0]: Consent.resourceType: is "consent"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if code != 1 || t.Failed() {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
}
