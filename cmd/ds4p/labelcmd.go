package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
)

// runLabel is `ds4p label FILE|-`: it labels a resource, a Bundle or an
// NDJSON file offline, writes the labelled output and a summary of what
// was labelled and why.
func runLabel(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("label", "Label a FHIR resource, a Bundle or an NDJSON file (FILE, or - for stdin) with\n"+
		"the label rules and Part 2 programs of --config, and write the labelled output.\n"+
		"Labels propagate along references inside the input. A summary goes to stderr.", stderr)
	config := fs.String("config", os.Getenv("DS4P_CONFIG"), "YAML configuration file (its labels: section is used)")
	rulesDir := fs.String("rules-dir", "", "directory of label rule files (default: DS4P_LABEL_RULES_DIR, else the config's, else the embedded rules)")
	out := fs.String("o", "-", "output file, - for stdout")
	why := fs.Bool("why", false, "list every derived label with its reason in the summary")
	// Flags may follow FILE too, as the usage line writes them (`ds4p
	// label FILE -why`); Go's flag parsing stops at the first argument.
	var files []string
	for rest := args; ; {
		if err := parseFlags(fs, rest); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(files) != 1 {
		fs.Usage()
		return &usageError{"one input file (or -) is required"}
	}
	lc, err := labelConfig(*config, *rulesDir, os.Environ())
	if err != nil {
		return err
	}
	l, err := lc.labeller()
	if err != nil {
		return err
	}
	in, err := readInput(files[0])
	if err != nil {
		return err
	}
	job := &labelJob{l: l, in: in, progress: progressWriter(stderr, len(in))}
	labelled, err := job.run()
	if err != nil {
		return err
	}
	if err := writeOutput(*out, stdout, labelled); err != nil {
		return err
	}
	job.summary(stderr, *why)
	return nil
}

// labelConfig reads the labels section of the configuration as serve
// does: the file, if any, then the DS4P_ variables of env (serve's
// DS4P_LABEL_RULES_DIR replaces the file's labels.rules_dir), then
// --rules-dir. Without the variables, an analyst labelling offline where
// serve runs with DS4P_LABEL_RULES_DIR got the file's (or the embedded)
// rules, not the ones the proxy labels with.
func labelConfig(path, rulesDir string, env []string) (LabelsConfig, error) {
	c := defaultConfig()
	if path != "" {
		if err := c.loadFile(path); err != nil {
			return LabelsConfig{}, err
		}
	}
	if err := c.applyEnv(env); err != nil {
		return LabelsConfig{}, err
	}
	if rulesDir != "" {
		c.Labels.RulesDir = rulesDir
	}
	if c.Labels.CacheSize == 0 {
		c.Labels.CacheSize = -1 // offline: the whole input is one batch
	}
	if errs := c.Labels.validate(); len(errs) > 0 {
		return LabelsConfig{}, errors.Join(errs...)
	}
	return c.Labels, nil
}

func readInput(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(name)
}

func writeOutput(name string, stdout io.Writer, b []byte) error {
	if name == "-" {
		_, err := stdout.Write(b)
		return err
	}
	return os.WriteFile(name, b, 0o600)
}

// labelJob is one offline labelling run.
type labelJob struct {
	l        *labels.Labeller
	in       []byte
	spans    [][2]int
	inBundle []labels.Set // per span: the labels of the stored Bundles it is in
	lines    bool         // NDJSON: each line is a resource the server holds
	carried  [][]carried  // per span: the resources it contains or carries
	results  []labels.Result
	progress func(done int)
}

// carried is a resource a resource contains or carries, where it lies.
type carried struct {
	span [2]int
	path string
}

// run finds the resources of the input (the resource itself, each entry of
// a Bundle, or each line of NDJSON), labels them as one batch and returns
// the input with the labels written.
func (j *labelJob) run() ([]byte, error) {
	if err := j.collect(); err != nil {
		return nil, err
	}
	batch := make([][]byte, len(j.spans))
	for k, s := range j.spans {
		batch[k] = j.in[s[0]:s[1]]
	}
	// An entry of a stored Bundle takes the Bundle's own labels, as the
	// proxy gives them (labels.BundleLabels, Result.InBundle).
	var copies []labels.Copy
	for k, ls := range j.inBundle {
		if len(ls) > 0 {
			if copies == nil {
				copies = make([]labels.Copy, len(j.spans))
			}
			copies[k].Labels = ls
		}
	}
	// The resources each contains or carries are labelled on their own,
	// as contained resources (proxy/label_stage.go).
	for k, cs := range j.carried {
		for _, c := range cs {
			batch = append(batch, j.in[c.span[0]:c.span[1]])
			if copies == nil {
				copies = make([]labels.Copy, len(j.spans))
			}
			copies = append(copies, labels.Copy{Contained: true, Labels: j.inBundle[k]})
		}
	}
	results, err := j.l.LabelAllResolvingCopies(batch, false, nil, copies)
	if err != nil {
		return nil, err
	}
	j.results = results[:len(j.spans)]
	j.settleCarried(results[len(j.spans):])
	var edits []fjson.Edit
	for k, s := range j.spans {
		es, err := j.l.Edits(batch[k], j.results[k])
		if err != nil {
			return nil, fmt.Errorf("resource %d: %w", k, err)
		}
		for _, e := range es {
			e.Start, e.End = e.Start+s[0], e.End+s[0]
			edits = append(edits, e)
		}
		j.progress(s[1])
	}
	return fjson.Apply(nil, j.in, edits)
}

// settleCarried gives each resource the sensitivity of the resources it
// contains or carries (rest: their results, in the order of j.carried), as
// the proxy gives it before deciding (proxy/contained.go, settleContained):
// their confidentiality, sensitivity and policy labels, and NORDSCLCD. An
// Observation containing a Condition its EHR labelled R and SUD in its own
// meta.security, with no code a rule matches, came out unlabelled, where
// the proxy labels it R and SUD and withholds it from org-b (QA round 38,
// area B). The labels the resource gains are given the reason "contained".
func (j *labelJob) settleCarried(rest []labels.Result) {
	for k, cs := range j.carried {
		if len(cs) == 0 {
			continue
		}
		rs := make([]labels.Result, len(cs))
		for i := range cs {
			rs[i] = rest[i].WholeResource()
		}
		rest = rest[len(cs):]
		add := labels.HighWaterMark(rs)
		for _, r := range rs {
			if r.Labels.Has(labels.NoRedisclosure) {
				add = add.Union(labels.NewSet(labels.NoRedisclosure))
			}
		}
		res := &j.results[k]
		whole := labels.Result{Labels: res.Labels.Union(add)}
		merged := whole.Effective() // with its highest confidentiality only
		if merged.Equal(res.Labels) {
			continue
		}
		for _, lb := range merged {
			if res.Labels.Has(lb) {
				continue
			}
			for i, r := range rs {
				if r.Labels.Has(lb) {
					res.Reasons = append(res.Reasons, labels.Reason{Label: lb, Rule: "contained", Matched: r.Type + "/" + r.ID, Path: cs[i].path})
					break
				}
			}
		}
		res.Labels, res.Changed = merged, true
	}
}

// collect finds the resources of the input.
func (j *labelJob) collect() error {
	if isNDJSON(j.in) {
		return j.collectLines()
	}
	if err := fjson.Validate(j.in, 256); err != nil {
		return fmt.Errorf("input is not JSON or NDJSON: %w", err)
	}
	start := fjson.SkipSpace(j.in, 0)
	end := len(bytes.TrimRight(j.in, " \t\r\n"))
	if _, _, ok, err := fjson.Lookup(j.in, start, "resourceType"); err != nil || !ok {
		return errors.New("input is not a FHIR resource (no resourceType)")
	}
	return j.collectResource(start, end, 0, nil)
}

// maxBundleDepth bounds Bundles nested in Bundles (a document or message
// Bundle in a collection, say).
const maxBundleDepth = 8

// collectResource adds the resource at [start, end) of the input, or, for
// a Bundle, the resources of its entries, those of Bundles nested in it
// too: a nested Bundle labelled as one resource would have its entries'
// codes read as its own and no labels written on them. own are the labels
// of the stored Bundles it is in.
func (j *labelJob) collectResource(start, end, depth int, own labels.Set) error {
	vs, ve, ok, err := fjson.Lookup(j.in, start, "resourceType")
	if err != nil {
		return err
	}
	if rt, _ := fjson.StringValue(j.in, vs, ve); !ok || rt != "Bundle" {
		var cs []carried
		if rt == "Parameters" {
			if err := j.collectParameters(start, "", 0, 0, &cs); err != nil {
				return err
			}
		}
		if err := j.collectContained(start, "", 0, &cs); err != nil {
			return err
		}
		j.spans = append(j.spans, [2]int{start, end})
		j.inBundle = append(j.inBundle, own)
		j.carried = append(j.carried, cs)
		return nil
	}
	if depth >= maxBundleDepth {
		return fmt.Errorf("Bundles are nested more than %d deep", maxBundleDepth)
	}
	// A stored Bundle's own labels (a document or a collection its EHR
	// labelled SUD or R as a whole) are its entries', as the proxy reads
	// them since QA round 36: labelled offline without them, its entries
	// went out unlabelled (QA round 37, area B). A search's or a history's
	// answer, or a batch's response, at the top of the input is the
	// server's, whose labels are its summary; a Bundle inside another is
	// taken as stored, as the proxy does when it cannot tell. A line of
	// NDJSON (a bulk export) is a resource the server holds, of whatever
	// type, as the proxy reads Bundle/b1: a saved searchset labelled R had
	// its entries written unlabelled (QA round 37, area G).
	var typ string
	if ts, te, ok, err := fjson.Lookup(j.in, start, "type"); err == nil && ok {
		typ, _ = fjson.StringValue(j.in, ts, te)
	}
	if ms, _, ok, err := fjson.Lookup(j.in, start, "meta"); err != nil {
		return err
	} else if ok && (depth > 0 || j.lines || !answerBundle(typ)) {
		ls, err := labels.BundleLabels(j.in, ms)
		if err != nil {
			return err
		}
		own = own.Union(ls)
	}
	es, _, ok, err := fjson.Lookup(j.in, start, "entry")
	if err != nil || !ok {
		return err
	}
	return fjson.ArrayEach(j.in, es, func(s, _ int) error {
		rs, re, ok, err := fjson.Lookup(j.in, s, "resource")
		if err != nil {
			return err
		}
		if ok {
			if err := j.collectResource(rs, re, depth+1, own); err != nil {
				return err
			}
		}
		return j.collectOutcome(s, depth, own)
	})
}

// errCarriedShape: a contained resource, an entry or a parameter that is
// no object, or carried deeper than maxBundleDepth.
var errCarriedShape = errors.New("a contained resource, entry or parameter is not an object, or lies too deep")

// collectContained adds to cs the resources of the contained member of the
// resource at start (an array of objects, or one object, which a server
// may store), and what each of them carries (collectCarried): the
// resources the proxy labels as contained (proxy/contained.go).
func (j *labelJob) collectContained(start int, path string, depth int, cs *[]carried) error {
	s, e, ok, err := fjson.Lookup(j.in, start, "contained")
	if err != nil || !ok {
		return err
	}
	path += "contained"
	switch j.in[s] {
	case '{':
		return j.collectCarried(s, e, path, depth, cs)
	case '[':
		n := 0
		return fjson.ArrayEach(j.in, s, func(vs, ve int) error {
			if j.in[vs] != '{' {
				return errCarriedShape
			}
			n++
			return j.collectCarried(vs, ve, fmt.Sprintf("%s[%d]", path, n-1), depth, cs)
		})
	}
	return nil
}

// collectCarried adds the resource at [vs, ve) to cs, and the resources
// it carries: its own contained ones, a Bundle's entries, a Parameters'
// parameters and parts; depth counts the Bundles and Parameters it lies in.
func (j *labelJob) collectCarried(vs, ve int, path string, depth int, cs *[]carried) error {
	*cs = append(*cs, carried{span: [2]int{vs, ve}, path: path})
	ts, te, ok, err := fjson.Lookup(j.in, vs, "resourceType")
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("a contained resource has no resourceType")
	}
	rt, _ := fjson.StringValue(j.in, ts, te)
	_, _, hasContained, err := fjson.Lookup(j.in, vs, "contained")
	if err != nil || !hasContained && rt != "Bundle" && rt != "Parameters" {
		return err
	}
	if depth >= maxBundleDepth {
		return errCarriedShape
	}
	if err := j.collectContained(vs, path+".", depth+1, cs); err != nil {
		return err
	}
	switch rt {
	case "Parameters":
		return j.collectParameters(vs, path+".", 0, depth+1, cs)
	case "Bundle":
	default:
		return nil
	}
	arr, _, ok, err := fjson.Lookup(j.in, vs, "entry")
	if err != nil || !ok {
		return err
	}
	if j.in[arr] != '[' {
		return errCarriedShape
	}
	n := 0
	return fjson.ArrayEach(j.in, arr, func(es, _ int) error {
		if j.in[es] != '{' {
			return errCarriedShape
		}
		n++
		rs, re, ok, err := fjson.Lookup(j.in, es, "resource")
		if err != nil || !ok {
			return err
		}
		if j.in[rs] != '{' {
			return errCarriedShape
		}
		return j.collectCarried(rs, re, fmt.Sprintf("%sentry[%d].resource", path+".", n-1), depth+1, cs)
	})
}

// collectParameters adds to cs the resources of the parameter (or, below,
// part) array of the object at obj, and what they carry; nest counts the
// Bundles and Parameters obj lies in.
func (j *labelJob) collectParameters(obj int, path string, depth, nest int, cs *[]carried) error {
	if depth > maxBundleDepth {
		return errCarriedShape
	}
	member := "parameter"
	if depth > 0 {
		member = "part"
	}
	arr, _, ok, err := fjson.Lookup(j.in, obj, member)
	if err != nil || !ok {
		return err
	}
	if j.in[arr] != '[' {
		return errCarriedShape
	}
	n := 0
	return fjson.ArrayEach(j.in, arr, func(ps, _ int) error {
		if j.in[ps] != '{' {
			return errCarriedShape
		}
		at := fmt.Sprintf("%s%s[%d]", path, member, n)
		n++
		rs, re, ok, err := fjson.Lookup(j.in, ps, "resource")
		if err != nil {
			return err
		}
		if ok {
			if j.in[rs] != '{' {
				return errCarriedShape
			}
			if err := j.collectCarried(rs, re, at+".resource", nest, cs); err != nil {
				return err
			}
		}
		return j.collectParameters(ps, at+".", depth+1, nest, cs)
	})
}

// collectOutcome adds the resource an entry's response.outcome holds:
// Bundle.entry.response.outcome is typed Resource, and the proxy labels a
// resource there as it labels the entry's (329bcaa); labelled offline
// without it, a Condition coded F11.20 stored there went back to the
// server unlabelled. A response written as an array (invalid FHIR) has
// each of its outcomes read.
func (j *labelJob) collectOutcome(entry, depth int, own labels.Set) error {
	ps, _, ok, err := fjson.Lookup(j.in, entry, "response")
	if err != nil || !ok {
		return err
	}
	one := func(s, _ int) error {
		vs, ve, ok, err := fjson.Lookup(j.in, s, "outcome")
		if err != nil || !ok {
			return err
		}
		if _, _, ok, err := fjson.Lookup(j.in, vs, "resourceType"); err != nil || !ok {
			return errors.New("an entry's response.outcome is not a FHIR resource (no resourceType)")
		}
		return j.collectResource(vs, ve, depth+1, own)
	}
	if j.in[ps] == '[' {
		return fjson.ArrayEach(j.in, ps, one)
	}
	return one(ps, 0)
}

// answerBundle reports whether a Bundle of type typ is a server's answer
// (a search's, a history's, a batch's or a transaction's response), not a
// resource it holds.
func answerBundle(typ string) bool {
	switch typ {
	case "searchset", "history", "batch-response", "transaction-response":
		return true
	}
	return false
}

// isNDJSON reports whether the input holds more than one line that starts
// a JSON object.
func isNDJSON(b []byte) bool {
	t := bytes.TrimSpace(b)
	i := bytes.IndexByte(t, '\n')
	return i > 0 && bytes.HasPrefix(bytes.TrimSpace(t[i+1:]), []byte("{")) && fjson.Validate(t[:i], 256) == nil
}

func (j *labelJob) collectLines() error {
	j.lines = true
	for off := 0; off < len(j.in); {
		n := bytes.IndexByte(j.in[off:], '\n')
		end := len(j.in)
		if n >= 0 {
			end = off + n
		}
		line := bytes.TrimRight(j.in[off:end], "\r \t")
		if len(bytes.TrimSpace(line)) > 0 {
			if err := fjson.Validate(line, 256); err != nil {
				return fmt.Errorf("line at byte %d: %w", off, err)
			}
			// A Bundle line (a bulk export of documents or messages) is
			// labelled entry by entry, as a Bundle file is: labelled as
			// one resource, its entries' codes were read as its own and
			// no labels were written on them (QA round 25).
			s := fjson.SkipSpace(j.in, off)
			if err := j.collectResource(s, off+len(line), 0, nil); err != nil {
				return fmt.Errorf("line at byte %d: %w", off, err)
			}
		}
		off = end + 1
	}
	return nil
}

// summary writes counts per label and per rule (never patient data other
// than resource ids, and those only with -why).
func (j *labelJob) summary(w io.Writer, why bool) {
	byLabel, byRule, changed := map[string]int{}, map[string]int{}, 0
	for _, r := range j.results {
		if r.Changed {
			changed++
		}
		for _, lb := range r.Labels {
			if !r.Existing.Has(lb) {
				byLabel[lb.Code]++
			}
		}
		for _, rs := range r.Reasons {
			byRule[rs.Rule]++
		}
	}
	fmt.Fprintf(w, "ds4p label: %s, %d labelled (label rules revision %s)\n", plural(len(j.results), "resource", "resources"), changed, j.l.Revision())
	printCounts(w, "labels added", byLabel)
	printCounts(w, "rules that fired", byRule)
	if !why {
		return
	}
	for _, r := range j.results {
		for _, rs := range r.Reasons {
			fmt.Fprintf(w, "  %s/%s %s ← %s (%s at %s)\n", r.Type, r.ID, rs.Label.Code, rs.Rule, rs.Matched, rs.Path)
		}
	}
}

func printCounts(w io.Writer, title string, m map[string]int) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for k, key := range keys {
		parts[k] = fmt.Sprintf("%s %d", key, m[key])
	}
	fmt.Fprintf(w, "  %s: %s\n", title, strings.Join(parts, ", "))
}

// progressWriter returns a progress reporter: a percentage on stderr when
// it is a terminal and the input is over 8 MiB, else nothing.
func progressWriter(w io.Writer, total int) func(done int) {
	f, ok := w.(*os.File)
	if !ok || total < 8<<20 {
		return func(int) {}
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return func(int) {}
	}
	last := -1
	return func(done int) {
		if pct := done * 100 / total; pct != last {
			last = pct
			fmt.Fprintf(w, "\rlabelling %3d%%", pct)
			if pct == 100 {
				fmt.Fprintln(w)
			}
		}
	}
}
