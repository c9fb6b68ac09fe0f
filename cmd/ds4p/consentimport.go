package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/internal/fjson"
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
	store    *consent.Store // nil until the first consent to store when there was no database
	open     func() (*consent.Store, error)
	openErr  error // the store could not be opened: nothing more is read
	closeDB  func() error
	accepted int
	rejected int
	same     int      // consents the store already had: nothing stored
	reasons  []string // "where: reason", one per problem
	skipped  int      // Bundle entries that are not Consents
	others   int      // files and lines holding another resource than a Consent
	earlier  int      // history Bundle entries of a consent's earlier versions
	// incomplete are the Bundles with a next link: pages of a search
	// whose other pages the import did not see.
	incomplete []string
	unread     []string // "where: why" of paths and lines not read
	otherFiles int      // files of directories that are neither JSON nor NDJSON
	progress   *progress
	updated    int // accepted consents that are new versions of stored ones
	// reactivated are the "where: was" of accepted consents that made a
	// revoked (or not yet active) stored consent active.
	reactivated []string
}

// runConsentImport stores every Consent found in the given paths and prints
// a summary; any rejection, file not read or interruption makes the command
// fail after the rest is stored.
func runConsentImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags, data := consentFlags("import", args, stdout, stderr)
	if err := parseFlags(flags, args); err != nil {
		return err
	}
	if flags.NArg() == 0 {
		return usagef("give at least one file, directory, or - for NDJSON on stdin")
	}
	im := &importer{ctx: ctx, progress: newProgress(stderr)}
	// An existing database is opened first (a locked one fails before
	// anything is read); a missing one is made with the first consent to
	// store, so that files none of which could be read, or that hold no
	// Consent, make no database and no storage key (QA round 40).
	im.open = func() (*consent.Store, error) {
		store, closeDB, err := openConsents(*data, true, "import")
		if err == nil {
			im.closeDB = closeDB
		}
		return store, err
	}
	if _, err := os.Stat(filepath.Join(*data, DBFile)); err == nil {
		if im.store, err = im.open(); err != nil {
			return err
		}
	}
	defer func() {
		if im.closeDB != nil {
			_ = im.closeDB()
		}
	}()
	for _, path := range flags.Args() {
		if im.interrupted() {
			break
		}
		im.importPath(path)
	}
	im.progress.done()
	if im.openErr != nil {
		return im.openErr
	}
	return im.summary(stdout)
}

// maxJSONFile bounds a .json file, read whole.
const maxJSONFile = 64 << 20

// interrupted reports whether the import was told to stop (Ctrl-C,
// SIGTERM): what is stored stays, each consent having been stored in a
// transaction of its own, and nothing more is read.
func (im *importer) interrupted() bool { return im.ctx.Err() != nil || im.openErr != nil }

// pathless is err without the path an *fs.PathError repeats.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// unreadable notes a path or line that could not be read.
func (im *importer) unreadable(where string, err error) {
	im.unread = append(im.unread, where+": "+err.Error())
}

// importPath imports a file, a directory (its .json and .ndjson files, also
// gzipped, in name order, not its subdirectories) or "-" (NDJSON on stdin).
// What cannot be read is noted and the import goes on.
func (im *importer) importPath(path string) {
	if path == "-" {
		im.importNDJSON("stdin", os.Stdin)
		return
	}
	info, err := os.Stat(path)
	if err != nil {
		im.unreadable(path, pathless(err))
		return
	}
	if !info.IsDir() {
		im.importFile(path)
		return
	}
	entries, err := os.ReadDir(path) // sorted by name
	if err != nil {
		im.unreadable(path, pathless(err))
		return
	}
	for _, e := range entries {
		if im.interrupted() {
			return
		}
		if name := strings.TrimSuffix(e.Name(), ".gz"); e.IsDir() || !(strings.HasSuffix(name, ".json") || strings.HasSuffix(name, ".ndjson")) {
			im.otherFiles++
			continue
		}
		im.importFile(filepath.Join(path, e.Name()))
	}
}

// importFile imports an .ndjson file line by line, or any other file as one
// JSON resource (a Consent, or a Bundle whose Consent entries are imported).
// A gzipped file (.gz, or gzip's magic bytes) is read through gzip.
func (im *importer) importFile(path string) {
	f, err := os.Open(path)
	if err != nil {
		im.unreadable(path, pathless(err))
		return
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			im.unreadable(path, fmt.Errorf("not readable as gzip: %w", err))
			return
		}
		defer zr.Close()
		r = zr
	}
	if strings.HasSuffix(strings.TrimSuffix(path, ".gz"), ".ndjson") {
		im.importNDJSON(path, r)
		return
	}
	im.importJSON(path, r)
}

// utf8BOM is the byte order mark some Windows tools put before UTF-8 text;
// JSON does not allow it, and it is dropped.
var utf8BOM = []byte("\xef\xbb\xbf")

// importNDJSON imports one resource per non-empty line. A line longer than
// maxNDJSONLine is rejected and the next one read. When the first line is
// the start of a JSON object that goes on over lines (a pretty-printed
// Consent or Bundle, curl's answer piped to "-"), the whole input is read
// as one JSON resource instead of rejecting each of its lines.
func (im *importer) importNDJSON(name string, r io.Reader) {
	br := bufio.NewReaderSize(r, 64<<10)
	first := true
	for line := 1; !im.interrupted(); line++ {
		raw, tooLong, err := readLine(br, maxNDJSONLine)
		where := name + ":" + strconv.Itoa(line)
		if tooLong {
			im.reject(where, fmt.Sprintf("the line is longer than %d bytes, more than a consent may be", maxNDJSONLine))
			first = false
		} else if raw = bytes.TrimSpace(bytes.TrimPrefix(raw, utf8BOM)); len(raw) > 0 {
			if first && (bytes.HasPrefix(raw, []byte{0xff, 0xfe}) || bytes.HasPrefix(raw, []byte{0xfe, 0xff})) {
				im.unreadable(name, errUTF16)
				return
			}
			if first && err == nil && raw[0] == '{' && !json.Valid(raw) {
				im.importJSON(name, io.MultiReader(bytes.NewReader(append(raw, '\n')), br))
				return
			}
			first = false
			im.importResource(where, raw)
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			im.unreadable(where, pathless(err))
			return
		}
	}
}

// errUTF16 is the reason a UTF-16 file (as Windows tools save "Unicode"
// text) is not read.
var errUTF16 = errors.New("is UTF-16 text; FHIR JSON is UTF-8 (convert it, e.g. iconv -f utf-16 -t utf-8)")

// importJSON imports r as one JSON resource (a Consent or a Bundle). A
// .json file that is NDJSON (one complete resource per line, as Bulk Data
// exports write) is imported line by line instead of refused whole.
func (im *importer) importJSON(name string, r io.Reader) {
	raw, err := io.ReadAll(io.LimitReader(r, maxJSONFile+1))
	switch {
	case err != nil:
		im.unreadable(name, pathless(err))
		return
	case len(raw) > maxJSONFile:
		im.unreadable(name, fmt.Errorf("is larger than %d MiB: split it, or export NDJSON (one consent per line, in a .ndjson file)", maxJSONFile>>20))
		return
	case bytes.HasPrefix(raw, []byte{0xff, 0xfe}) || bytes.HasPrefix(raw, []byte{0xfe, 0xff}):
		im.unreadable(name, errUTF16)
		return
	}
	raw = bytes.TrimPrefix(raw, utf8BOM)
	if !json.Valid(raw) {
		firstLine, rest, _ := bytes.Cut(bytes.TrimSpace(raw), []byte("\n"))
		if len(rest) > 0 && json.Valid(firstLine) {
			im.importNDJSON(name, bytes.NewReader(raw))
			return
		}
	}
	// A JSON array of resources, as scripts write them: each element is
	// imported as a file of its own would be.
	var list []json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '[' && json.Unmarshal(t, &list) == nil {
		for i, item := range list {
			im.importResource(fmt.Sprintf("%s[%d]", name, i), item)
		}
		return
	}
	im.importResource(name, raw)
}

// readLine returns the next line of br without its newline, a fresh slice;
// a line longer than limit is read to its end and dropped (tooLong). err
// is io.EOF after the last line.
func readLine(br *bufio.Reader, limit int) (line []byte, tooLong bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(line)+len(chunk) > limit+1 {
				tooLong, line = true, nil
			} else {
				line = append(line, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		return line, tooLong, err
	}
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
		ID string `json:"id"`
	}
	if len(e.Resource) == 0 || json.Unmarshal(e.Resource, &head) != nil || otherResource(e.Resource) {
		return "", false, false
	}
	return head.ID, false, true
}

// otherResource reports whether raw is a FHIR R4 resource of a type other
// than Consent, which import passes over (counted). A resource whose type
// is misspelt or missing is not: the store refuses it, with the reason, as
// it would a Consent with that mistake.
func otherResource(raw []byte) bool {
	var top map[string]json.RawMessage
	var typ string
	if json.Unmarshal(raw, &top) != nil || json.Unmarshal(top["resourceType"], &typ) != nil {
		return false
	}
	return typ != "Consent" && consent.IsResourceType(typ)
}

// importResource stores a Consent, or each Consent entry of a Bundle. A
// history Bundle lists every version of a consent, newest first: only the
// newest is imported (stored in the order given, the oldest would end up
// the current version), and a consent whose newest entry deletes it is
// refused. A DELETE in any Bundle is refused: import deletes nothing. A
// Bundle with a next link is one page of a search: the summary says the
// file is incomplete.
func (im *importer) importResource(where string, raw []byte) {
	switch {
	case isBundle(raw):
		im.importBundle(where, raw, 1)
	case otherResource(raw):
		im.others++
	default:
		im.store1(importItem{where: where, raw: raw})
	}
}

// maxBundleNesting bounds Bundles in Bundles (a collection of search
// pages is two levels).
const maxBundleNesting = 4

// isBundle reports whether raw is a JSON object whose resourceType is
// exactly "Bundle".
func isBundle(raw []byte) bool {
	var top map[string]json.RawMessage
	return json.Unmarshal(raw, &top) == nil && string(top["resourceType"]) == `"Bundle"`
}

// importBundle imports the Consent entries of a Bundle at nesting level
// depth (1 for a file's own), and those of the Bundles it holds.
func (im *importer) importBundle(where string, raw []byte, depth int) {
	if err := exactBundle(raw); err != nil {
		im.reject(where, "the Bundle "+err.Error()+": nothing in it was imported")
		return
	}
	var b bundleJSON
	if err := json.Unmarshal(raw, &b); err != nil {
		im.reject(where, "the Bundle cannot be read: "+strings.TrimPrefix(err.Error(), "json: ")+": nothing in it was imported")
		return
	}
	for _, l := range b.Link {
		// RFC 8288: relation types compare in any case, several in one.
		if slices.ContainsFunc(strings.Fields(l.Relation), func(f string) bool { return strings.EqualFold(f, "next") }) {
			im.incomplete = append(im.incomplete, where)
		}
	}
	seen := map[string]bool{} // ids of a history Bundle already met
	for i, e := range b.Entry {
		at := fmt.Sprintf("%s entry[%d]", where, i)
		id, deletes, ok := e.consentOf()
		switch {
		case !deletes && isBundle(e.Resource) && depth < maxBundleNesting:
			im.importBundle(at, e.Resource, depth+1)
		case !deletes && isBundle(e.Resource):
			im.reject(at, fmt.Sprintf("a Bundle nested more than %d deep: not read", maxBundleNesting))
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

// exactBundle refuses a Bundle whose member names repeat, differ only in
// case, or are miscased where import reads them ("Entry", "Resource",
// "Request", "Method"): encoding/json matches names in any case and lets
// the last win, while FHIR names are case-sensitive, so the consents
// imported would not be the ones a FHIR tool shows whoever checked the
// file. The consents themselves are checked by the store, exactly.
func exactBundle(raw []byte) error {
	if fjson.Validate(raw, fjson.MaxDepth) != nil || fjson.FoldedDuplicate(raw) != nil {
		return errors.New("has member names that repeat or differ only in case (FHIR names are case-sensitive)")
	}
	type object = map[string]json.RawMessage
	var top object
	var lists struct {
		Entry []object `json:"entry"`
		Link  []object `json:"link"`
	}
	if json.Unmarshal(raw, &top) != nil || json.Unmarshal(raw, &lists) != nil {
		return nil // the reading proper reports it
	}
	check := func(o object, names ...string) error {
		for k := range o {
			for _, n := range names {
				if k != n && strings.EqualFold(k, n) {
					return fmt.Errorf("has the member %q where FHIR names it %q", k, n)
				}
			}
		}
		return nil
	}
	errs := []error{check(top, "resourceType", "type", "link", "entry")}
	for _, l := range lists.Link {
		errs = append(errs, check(l, "relation"))
	}
	for _, e := range lists.Entry {
		var req object
		_ = json.Unmarshal(e["request"], &req)
		errs = append(errs, check(e, "resource", "request"), check(req, "method", "url"))
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// reject counts an item that was not imported, with the reason.
func (im *importer) reject(where, reason string) {
	im.rejected++
	im.reasons = append(im.reasons, where+": "+reason)
	im.progress.update(im.accepted, im.rejected)
}

// store1 stores one item and records the outcome. An interruption is no
// rejection: the item is simply not imported.
func (im *importer) store1(it importItem) {
	if im.interrupted() {
		return
	}
	var (
		rec    consent.Record
		stored bool
		err    error
	)
	if im.store == nil {
		// No database yet: one is made for a consent the store takes
		// (consent.Validate checks as the store does), not for one it
		// would reject.
		if _, err = consent.Validate(it.raw); err == nil {
			if im.store, im.openErr = im.open(); im.openErr != nil {
				return
			}
		}
	}
	if err == nil {
		rec, stored, err = im.store.Import(im.ctx, it.raw)
	}
	var ve *consent.ValidationError
	switch {
	case err == nil && !stored:
		im.same++
	case err == nil:
		im.accepted++
		im.replaced(it.where, rec)
	case errors.Is(err, consent.ErrPatientChanged):
		// The store's words name both patients and the consent.
		im.reject(it.where, "Consent.patient.reference: is not the patient of the stored consent with this id: "+
			"a consent cannot move to another patient; store a new consent (without this id) for this patient, "+
			"and revoke the stored one if it was entered in error (ds4p consent revoke --status entered-in-error)")
		return
	case errors.As(err, &ve):
		im.rejected++
		for _, p := range ve.Problems {
			im.reasons = append(im.reasons, it.where+": "+printable(p))
		}
	case im.interrupted():
		return
	default:
		im.rejected++
		im.reasons = append(im.reasons, it.where+": the store failed: "+innermost(err).Error())
	}
	im.progress.update(im.accepted, im.rejected)
}

// The summary goes to terminals and to CI logs that many can read, so a
// problem is printed without the values that can identify a patient: the
// patient's reference, the consent's id, the references of actors (a
// RelatedPerson, the patient) and of data (a resource id), and any
// "Patient/<id>" in a message. The file and line locate the consent.
var (
	quotedValue  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	patientToken = regexp.MustCompile(`Patient/[A-Za-z0-9\-.]{1,64}`)
)

// printable is a problem as the summary prints it (see quotedValue).
func printable(p consent.Problem) string {
	msg := p.Message
	if identifying(p.Path) {
		msg = quotedValue.ReplaceAllString(msg, `"(withheld)"`)
	}
	return p.Path + ": " + patientToken.ReplaceAllString(msg, "Patient/(withheld)")
}

// identifying reports whether the values a problem at path quotes may
// identify a patient.
func identifying(path string) bool {
	for _, prefix := range []string{"Consent.id", "Consent.patient", "Consent.subject", "Consent.identifier"} {
		if strings.HasPrefix(path, prefix) {
			return true
		}
	}
	return strings.Contains(path, ".actor") || strings.Contains(path, ".data[") || strings.HasSuffix(path, ".data")
}

// innermost is the cause at the bottom of err's chain: the store wraps its
// failures with the consent's id.
func innermost(err error) error {
	for inner := errors.Unwrap(err); inner != nil; inner = errors.Unwrap(err) {
		err = inner
	}
	return err
}

// replaced notes an accepted version that replaced a stored one, and says
// so when it made a consent active that was not: a re-grant is legitimate,
// but one the operator did not mean (an old export, a file from someone
// else) discloses what the patient withheld, so it is listed.
func (im *importer) replaced(where string, rec consent.Record) {
	if rec.Version < 2 {
		return
	}
	im.updated++
	if rec.Status != "active" {
		return
	}
	prev, err := im.store.Version(im.ctx, rec.ID, rec.Version-1)
	switch {
	case err != nil:
		im.reactivated = append(im.reactivated, where+": stored as a new version, and the one it replaced could not be read: check it (ds4p consent show --history)")
	case prev.Status != "active":
		im.reactivated = append(im.reactivated, where+": the stored consent was "+prev.Status+"; this new version makes it active")
	}
}

// summary prints the tally, every rejection with its reasons and every
// path not read, and fails when anything was not imported.
func (im *importer) summary(w io.Writer) error {
	fmt.Fprintf(w, "accepted %d", im.accepted)
	if im.updated > 0 {
		fmt.Fprintf(w, " (%d of them new versions of stored consents)", im.updated)
	}
	fmt.Fprintf(w, ", rejected %d", im.rejected)
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
	if im.others > 0 {
		fmt.Fprint(w, ", skipped "+plural(im.others, "resource that is not a Consent", "resources that are not Consents"))
	}
	if im.earlier > 0 {
		fmt.Fprintf(w, ", skipped %s of earlier versions in history Bundles (the newest version of each consent is imported)",
			plural(im.earlier, "entry", "entries"))
	}
	if im.otherFiles > 0 {
		fmt.Fprintf(w, ", skipped %s of directories (neither .json nor .ndjson)", plural(im.otherFiles, "file", "files"))
	}
	fmt.Fprintln(w)
	for _, r := range im.reasons {
		fmt.Fprintln(w, "  rejected "+r)
	}
	for _, r := range im.reactivated {
		fmt.Fprintln(w, "  reactivated "+r)
	}
	for _, r := range im.unread {
		fmt.Fprintln(w, "  not read "+r)
	}
	for _, where := range im.incomplete {
		fmt.Fprintln(w, "  incomplete "+where+": the Bundle has a next link: it is one page of a search, "+
			"and the consents of the other pages were not imported")
	}
	var failed []string
	if im.interrupted() {
		failed = append(failed, "interrupted: what was read before is stored, the rest was not imported")
	}
	if im.rejected > 0 {
		failed = append(failed, fmt.Sprintf("%d of %s rejected%s", im.rejected,
			plural(im.rejected+im.accepted+im.same, "consent", "consents"), storedOthers(im.accepted, im.same)))
	}
	if n := len(im.unread); n > 0 {
		failed = append(failed, fmt.Sprintf("%s not read", plural(n, "file or line", "files or lines")))
	}
	if n := len(im.incomplete); n > 0 {
		failed = append(failed, fmt.Sprintf("incomplete: %s one page of a search; the other pages were not imported",
			plural(n, "Bundle was", "Bundles were")))
	}
	if len(failed) == 0 && im.accepted+im.rejected+im.same == 0 {
		failed = append(failed, "no consent found: give .json files (a Consent or a Bundle of them), .ndjson files, or directories of them")
	}
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "; "))
	}
	return nil
}

// storedOthers says what became of the consents an import did not reject.
func storedOthers(accepted, same int) string {
	if same > 0 {
		return fmt.Sprintf("; %d stored, %d already stored", accepted, same)
	}
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
