package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/ds4p/ds4p/consent"
)

// maxNDJSONLine bounds one line of an NDJSON file: a little more than the
// largest consent the store accepts, so that an oversize one is reported by
// the store rather than by the reader.
const maxNDJSONLine = consent.DefaultMaxSize + 1<<10

// importItem is one resource read from an import source.
type importItem struct {
	where string // file, file:line, or file entry[i]
	raw   []byte
}

// importer stores items and keeps the tally.
type importer struct {
	ctx      context.Context
	store    *consent.Store
	accepted int
	rejected int
	same     int      // consents the store already had: nothing stored
	reasons  []string // "where: reason", one per problem
	skipped  int      // Bundle entries that are not Consents
	earlier  int      // history Bundle entries of a consent's earlier versions
	// incomplete are the Bundles with a next link: pages of a search
	// whose other pages the import did not see.
	incomplete []string
	progress   *progress
}

// runConsentImport stores every Consent found in the given paths and prints
// a summary; any rejection makes the command fail after the rest is stored.
func runConsentImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags, data := consentFlags("import", args, stdout, stderr)
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if flags.NArg() == 0 {
		return usagef("give at least one file, directory, or - for NDJSON on stdin")
	}
	store, closeDB, err := openConsents(*data, true)
	if err != nil {
		return err
	}
	defer closeDB()
	im := &importer{ctx: ctx, store: store, progress: newProgress(stderr)}
	for _, path := range flags.Args() {
		if err := im.importPath(path); err != nil {
			im.progress.done()
			return err
		}
	}
	im.progress.done()
	return im.summary(stdout)
}

// importPath imports a file, a directory (its *.json and *.ndjson files in
// name order, not its subdirectories) or "-" (NDJSON on stdin).
func (im *importer) importPath(path string) error {
	if path == "-" {
		return im.importNDJSON("stdin", os.Stdin)
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return im.importFile(path)
	}
	entries, err := os.ReadDir(path) // sorted by name
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !(strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".ndjson")) {
			continue
		}
		if err := im.importFile(filepath.Join(path, name)); err != nil {
			return err
		}
	}
	return nil
}

// importFile imports an .ndjson file line by line, or any other file as one
// JSON resource (a Consent, or a Bundle whose Consent entries are imported).
func (im *importer) importFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if strings.HasSuffix(path, ".ndjson") {
		return im.importNDJSON(path, f)
	}
	raw, err := io.ReadAll(io.LimitReader(f, 64<<20))
	if err != nil {
		return err
	}
	im.importResource(path, raw)
	return nil
}

// importNDJSON imports one resource per non-empty line.
func (im *importer) importNDJSON(name string, r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxNDJSONLine)
	for line := 1; sc.Scan(); line++ {
		if raw := bytes.TrimSpace(sc.Bytes()); len(raw) > 0 {
			im.importResource(name+":"+strconv.Itoa(line), bytes.Clone(raw))
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	return nil
}

// bundleJSON is what import reads of a Bundle.
type bundleJSON struct {
	ResourceType string `json:"resourceType"`
	Type         string `json:"type"`
	Link         []struct {
		Relation string `json:"relation"`
	} `json:"link"`
	Entry []bundleEntry `json:"entry"`
}

// bundleEntry is what import reads of a Bundle entry.
type bundleEntry struct {
	Resource json.RawMessage `json:"resource"`
	Request  *struct {
		Method string `json:"method"`
		URL    string `json:"url"`
	} `json:"request"`
}

// consentOf returns the id of the Consent an entry holds or deletes, and
// whether it is a Consent entry at all.
func (e bundleEntry) consentOf() (id string, deletes, ok bool) {
	if e.Request != nil && e.Request.Method == "DELETE" {
		// Consent/<id>, Consent/<id>/_history/<n>, or a base URL before it.
		parts := strings.Split(strings.SplitN(e.Request.URL, "?", 2)[0], "/")
		for i := range parts {
			if parts[i] == "Consent" && i+1 < len(parts) {
				return parts[i+1], true, true
			}
		}
		return "", true, strings.HasPrefix(e.Request.URL, "Consent")
	}
	var head struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
	}
	if json.Unmarshal(e.Resource, &head) != nil || head.ResourceType != "Consent" {
		return "", false, false
	}
	return head.ID, false, true
}

// importResource stores a Consent, or each Consent entry of a Bundle. A
// history Bundle lists every version of a consent, newest first: only the
// newest is imported (stored in the order given, the oldest would end up
// the current version), and a consent whose newest entry deletes it is
// refused. A DELETE in any Bundle is refused: import deletes nothing. A
// Bundle with a next link is one page of a search: the summary says the
// file is incomplete.
func (im *importer) importResource(where string, raw []byte) {
	var b bundleJSON
	if json.Unmarshal(raw, &b) != nil || b.ResourceType != "Bundle" {
		im.store1(importItem{where: where, raw: raw})
		return
	}
	for _, l := range b.Link {
		if l.Relation == "next" {
			im.incomplete = append(im.incomplete, where)
		}
	}
	seen := map[string]bool{} // ids of a history Bundle already met
	for i, e := range b.Entry {
		at := fmt.Sprintf("%s entry[%d]", where, i)
		id, deletes, ok := e.consentOf()
		switch {
		case !ok:
			im.skipped++
		case b.Type == "history" && id != "" && seen[id]:
			im.earlier++
		case deletes:
			seen[id] = true
			im.reject(at, "a DELETE of a Consent: import deletes nothing; if ds4p holds that consent, revoke it "+
				"(ds4p consent revoke --status entered-in-error, or POST /admin/Consent/ID/$revoke)")
		default:
			seen[id] = true
			im.store1(importItem{where: at, raw: e.Resource})
		}
	}
}

// reject counts an item that was not imported, with the reason.
func (im *importer) reject(where, reason string) {
	im.rejected++
	im.reasons = append(im.reasons, where+": "+reason)
	im.progress.update(im.accepted, im.rejected)
}

// store1 stores one item and records the outcome.
func (im *importer) store1(it importItem) {
	_, stored, err := im.store.Import(im.ctx, it.raw)
	var ve *consent.ValidationError
	switch {
	case err == nil && !stored:
		im.same++
	case errors.As(err, &ve):
		im.rejected++
		for _, p := range ve.Problems {
			im.reasons = append(im.reasons, it.where+": "+p.String())
		}
	case err != nil:
		im.rejected++
		im.reasons = append(im.reasons, it.where+": "+err.Error())
	default:
		im.accepted++
	}
	im.progress.update(im.accepted, im.rejected)
}

// summary prints the tally and every rejection with its reasons.
func (im *importer) summary(w io.Writer) error {
	fmt.Fprintf(w, "accepted %d, rejected %d", im.accepted, im.rejected)
	if im.same > 0 {
		fmt.Fprintf(w, ", unchanged %d (already stored; not stored again)", im.same)
	}
	if im.skipped > 0 {
		if im.skipped == 1 {
			fmt.Fprint(w, ", skipped 1 Bundle entry that is not a Consent")
		} else {
			fmt.Fprintf(w, ", skipped %d Bundle entries that are not Consents", im.skipped)
		}
	}
	if im.earlier > 0 {
		fmt.Fprintf(w, ", skipped %s of earlier versions in history Bundles (the newest version of each consent is imported)",
			plural(im.earlier, "entry", "entries"))
	}
	fmt.Fprintln(w)
	for _, r := range im.reasons {
		fmt.Fprintln(w, "  rejected "+r)
	}
	for _, where := range im.incomplete {
		fmt.Fprintln(w, "  incomplete "+where+": the Bundle has a next link: it is one page of a search, "+
			"and the consents of the other pages were not imported")
	}
	if len(im.incomplete) > 0 && im.rejected == 0 {
		return fmt.Errorf("incomplete: %s one page of a search; the other pages were not imported",
			plural(len(im.incomplete), "Bundle was", "Bundles were"))
	}
	if im.rejected > 0 {
		return fmt.Errorf("%d of %s rejected%s", im.rejected, plural(im.rejected+im.accepted+im.same, "consent", "consents"), storedOthers(im.accepted))
	}
	return nil
}

// storedOthers says what became of the consents an import accepted.
func storedOthers(accepted int) string {
	switch accepted {
	case 0:
		return ""
	case 1:
		return "; the other was stored"
	}
	return "; the others were stored"
}

// progress writes a one-line count to a terminal, at most every 100 ms.
type progress struct {
	w    io.Writer // nil when not a terminal
	last time.Time
}

// newProgress returns a progress line on w when w is a terminal.
func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	if !ok {
		return &progress{}
	}
	info, err := f.Stat()
	if err != nil || info.Mode()&os.ModeCharDevice == 0 {
		return &progress{}
	}
	return &progress{w: w}
}

// update redraws the line.
func (p *progress) update(accepted, rejected int) {
	if p.w == nil || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "\rimporting: %d accepted, %d rejected", accepted, rejected)
}

// done clears the line.
func (p *progress) done() {
	if p.w != nil && !p.last.IsZero() {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
