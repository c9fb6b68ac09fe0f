package policy

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/open-policy-agent/opa/v1/ast"
)

// ConsentVersion names one stored version of a consent.
type ConsentVersion struct {
	ID, Version string
}

// ConsentKey returns a key that names exactly the consent versions vs, in
// any order: the same versions give the same key, a new version or one more
// or fewer consent a different one. Set it as Input.ConsentKey.
func ConsentKey(vs []ConsentVersion) string {
	var sum [sha256.Size]byte
	if len(vs) <= 1 {
		// A patient has no consent or one: hash the same bytes as below
		// from a buffer on the stack (the key is made for every read, and
		// took four allocations: the list, the part, the hash, the hex).
		var buf [128]byte
		b := buf[:0]
		if len(vs) == 1 {
			b = append(b, vs[0].ID...)
			b = append(b, 0)
			b = append(b, vs[0].Version...)
			b = append(b, 0xff)
		}
		sum = sha256.Sum256(b)
	} else {
		parts := make([]string, len(vs))
		for i, v := range vs {
			parts[i] = v.ID + "\x00" + v.Version
		}
		slices.Sort(parts)
		h := sha256.New()
		for _, p := range parts {
			h.Write([]byte(p))
			h.Write([]byte{0xff})
		}
		h.Sum(sum[:0])
	}
	var key [2 + 32]byte
	copy(key[:], "c:")
	hex.Encode(key[2:], sum[:16])
	return string(key[:])
}

// consentSet is the policy form of one patient's consents.
type consentSet struct {
	value ast.Value
	// criteria are the criteria the provisions state ("actors",
	// "classes", ...): what reads.typeBlind looks for.
	criteria map[string]bool
	// digest is a hash of value: decisions and fixed verdicts are cached
	// under it as well as under the ConsentKey, so that consents whose
	// content changed under the same versions (an upstream that does not
	// move meta.versionId) never meet what was decided with the old.
	digest [16]byte
	// src are the consents it was built from when each is a pointer (nil
	// otherwise): the cached form serves an input whose consents are
	// these same ones; other pointers are converted again (sameSources).
	src []any
}

// withDigest sets cs.digest from cs.value (its text hashed where it lies:
// converting a consent costs one allocation more, not two).
func (cs *consentSet) withDigest() *consentSet {
	text := cs.value.String()
	sum := sha256.Sum256(unsafe.Slice(unsafe.StringData(text), len(text)))
	copy(cs.digest[:], sum[:])
	return cs
}

// pointers reports whether every consent is held by a pointer, whose
// identity tells whether a cached form was built from it.
func pointers(consents []any) bool {
	for _, c := range consents {
		if c == nil || reflect.TypeOf(c).Kind() != reflect.Pointer {
			return false
		}
	}
	return true
}

// serves reports whether cs, cached under in's ConsentKey, is the form
// of in's consents: built from the same pointers, or (consents not held
// by pointers) trusted to the key as before.
func (cs *consentSet) serves(consents []any) bool {
	if cs.src == nil || len(cs.src) != len(consents) {
		return cs.src == nil && !pointers(consents)
	}
	for i, c := range consents {
		if c != cs.src[i] {
			return false
		}
	}
	return true
}

// newConsentSet converts consents to their policy form once: consents of
// another patient than patient (when set) are left out, and the criteria of
// provision conditions that state nothing (empty lists, zero times) are
// dropped (and with them the levels that state nothing at all), which the
// input schema allows and saves the policy from testing them on every
// evaluation.
//
// With index, each consent also gets the index of its rules by actor
// (index.go).
func newConsentSet(consents []any, patient string, index bool) (*consentSet, error) {
	terms := make([]*ast.Term, 0, len(consents))
	criteria := map[string]bool{}
	for _, c := range consents {
		var t *ast.Term
		switch x := c.(type) {
		case *Consent: // consentform.go: no round trip, criteria as it goes
			t = x.term(patient, index, criteria)
		case ConsentForm:
			t = x.PolicyConsent().term(patient, index, criteria)
		default:
			v, err := ast.InterfaceToValue(c)
			if err != nil {
				return nil, fmt.Errorf("policy: building consent input: %w", err)
			}
			if t = compactConsent(ast.NewTerm(v), patient); t != nil && index {
				t = indexConsent(t)
			}
			if t != nil {
				collectCriteria(t, criteria)
			}
		}
		if t != nil {
			terms = append(terms, t)
		}
	}
	cs := &consentSet{value: ast.NewArray(terms...), criteria: criteria}
	if pointers(consents) {
		// The caller's slice, kept (Input.ConsentKey: not modified after).
		cs.src = consents
		if cs.src == nil {
			cs.src = []any{}
		}
	}
	return cs.withDigest(), nil
}

// compactConsent returns t with its provision conditions compacted, or nil
// when it is the consent of another patient than patient (when set).
func compactConsent(t *ast.Term, patient string) *ast.Term {
	c, ok := t.Value.(ast.Object)
	if !ok {
		return t
	}
	if pt := c.Get(kPatient); pt != nil && patient != "" {
		if p, ok := pt.Value.(ast.String); ok && string(p) != patient {
			return nil
		}
	}
	if mapped, err := c.Map(compactRules); err == nil {
		c = mapped
	}
	return ast.NewTerm(c)
}

// compactRules rewrites the "rules" of a consent object.
func compactRules(k, v *ast.Term) (*ast.Term, *ast.Term, error) {
	rules, ok := v.Value.(*ast.Array)
	if !ok || !k.Equal(kRules) {
		return k, v, nil
	}
	out := make([]*ast.Term, 0, rules.Len())
	rules.Foreach(func(r *ast.Term) {
		obj, ok := r.Value.(ast.Object)
		if !ok {
			out = append(out, r)
			return
		}
		mapped, _ := obj.Map(func(k, v *ast.Term) (*ast.Term, *ast.Term, error) {
			conds, ok := v.Value.(*ast.Array)
			if !ok || !k.Equal(kConditions) {
				return k, v, nil
			}
			return k, ast.NewTerm(compactConditions(conds)), nil
		})
		out = append(out, ast.NewTerm(mapped))
	})
	return k, ast.NewTerm(ast.NewArray(out...)), nil
}

func compactConditions(conds *ast.Array) *ast.Array {
	out := make([]*ast.Term, 0, conds.Len())
	conds.Foreach(func(c *ast.Term) {
		obj, ok := c.Value.(ast.Object)
		if !ok {
			out = append(out, c)
			return
		}
		// data lists the references of data_refs without their meaning;
		// when data_refs is there, data says nothing more (and read alone
		// it can only be tested protectively).
		withRefs := false
		if dr := obj.Get(kDataRefs); dr != nil {
			withRefs = !statesNothing(dr.Value)
		}
		kept := ast.NewObject()
		obj.Foreach(func(k, v *ast.Term) {
			if statesNothing(v.Value) || (withRefs && k.Equal(kData)) {
				return
			}
			kept.Insert(k, v)
		})
		if kept.Len() == 0 {
			// A level that states nothing matches every caller and
			// item, for a permit and a deny alike: leaving it out
			// changes no answer and saves the policy a level.
			return
		}
		out = append(out, ast.NewTerm(kept))
	})
	return ast.NewArray(out...)
}

// statesNothing reports an empty list, a zero number or null.
func statesNothing(v ast.Value) bool {
	switch x := v.(type) {
	case ast.Null:
		return true
	case *ast.Array:
		return x.Len() == 0
	case ast.Number:
		i, ok := x.Int64()
		return ok && i == 0
	}
	return false
}

// collectCriteria adds the keys of every provision level (the objects in
// rules[].conditions) of the consent c.
func collectCriteria(c *ast.Term, out map[string]bool) {
	each := func(v ast.Value, f func(*ast.Term)) {
		if a, ok := v.(*ast.Array); ok {
			a.Foreach(f)
		}
	}
	field := func(t *ast.Term, name string) ast.Value {
		if o, ok := t.Value.(ast.Object); ok {
			if x := o.Get(ast.InternedTerm(name)); x != nil {
				return x.Value
			}
		}
		return nil
	}
	each(field(c, "rules"), func(r *ast.Term) {
		each(field(r, "conditions"), func(level *ast.Term) {
			if o, ok := level.Value.(ast.Object); ok {
				o.Foreach(func(k, _ *ast.Term) {
					if s, ok := k.Value.(ast.String); ok {
						out[string(s)] = true
					}
				})
			}
		})
	})
}

// value builds the input document as an ast.Value directly, without a JSON
// round trip; consents is the prepared policy form of in.Consents. The
// caller and the item's labels are taken from m when it holds them (they
// repeat across the decision classes of a response and across requests)
// and added to it otherwise; m may be nil. Terms in m are never modified:
// OPA treats input as immutable. fixed, when not nil, is the response's
// fixed verdicts (fixed.go), passed as input.fixed_verdicts.
func (in *Input) value(consents ast.Value, m *inputMemo, fixed *ast.Term) ast.Value {
	var buf [9][2]*ast.Term // one object of the right size: no growth
	items := in.appendContext(buf[:0], consents, m)
	items = append(items, ast.Item(kItem, m.item(&in.Item)))
	if fixed != nil {
		items = append(items, ast.Item(kFixedVerdicts, fixed))
	}
	if in.Brief {
		items = append(items, ast.Item(kBrief, ast.InternedTerm(true)))
	}
	return ast.NewObject(items...)
}

// contextValue is the input document without an item: the response
// context alone.
func (in *Input) contextValue(consents ast.Value, m *inputMemo) ast.Object {
	var buf [6][2]*ast.Term
	return ast.NewObject(in.appendContext(buf[:0], consents, m)...)
}

// appendContext appends the response context's members of the input.
func (in *Input) appendContext(items [][2]*ast.Term, consents ast.Value, m *inputMemo) [][2]*ast.Term {
	if in.CallerIsPatient {
		items = append(items, ast.Item(kCallerIsPat, ast.InternedTerm(true)))
	}
	return append(items,
		ast.Item(kVersion, ast.InternedTerm(InputVersion)),
		ast.Item(kCaller, m.caller(&in.Caller)),
		ast.Item(kRequest, m.request(&in.Request)),
		ast.Item(kPatient, ast.StringTerm(in.Patient)),
		ast.Item(kConsents, ast.NewTerm(consents)),
	)
}

func (it *Item) value(m *inputMemo) ast.Object {
	obj := ast.NewObject(
		ast.Item(kType, ast.StringTerm(it.Type)),
		ast.Item(kLabels, m.labels(it.Labels)),
		ast.Item(kSource, ast.StringTerm(it.Source)),
	)
	if f := it.Facts; f != nil {
		facts := ast.NewObject(
			ast.Item(kCodes, stringsTerm(f.Codes)),
			ast.Item(kReference, ast.StringTerm(f.Reference)),
		)
		if f.TimeNS != nil {
			facts.Insert(kTimeNs, ast.IntNumberTerm(int(*f.TimeNS)))
		}
		if f.TimeEndNS != nil {
			facts.Insert(kTimeEndNs, ast.IntNumberTerm(int(*f.TimeEndNS)))
		}
		if len(f.CarriedTypes) > 0 {
			facts.Insert(kCarriedTypes, stringsTerm(f.CarriedTypes))
		}
		if len(f.CarriedCodes) > 0 {
			facts.Insert(kCarriedCodes, stringsTerm(f.CarriedCodes))
		}
		if len(f.CarriedReferences) > 0 {
			facts.Insert(kCarriedRefs, stringsTerm(f.CarriedReferences))
		}
		obj.Insert(kFacts, ast.NewTerm(facts))
	}
	return obj
}

func (c *Caller) value() ast.Object {
	bg := ast.NullTerm()
	if c.BreakGlass != nil {
		bg = ast.ObjectTerm(
			ast.Item(kReason, ast.StringTerm(c.BreakGlass.Reason)),
			ast.Item(kIssuedAt, ast.IntNumberTerm(int(c.BreakGlass.IssuedAt))),
			ast.Item(kExpiresAt, ast.IntNumberTerm(int(c.BreakGlass.ExpiresAt))),
		)
	}
	obj := ast.NewObject(
		ast.Item(kSubject, ast.StringTerm(c.Subject)),
		ast.Item(kOrg, ast.StringTerm(c.Org)),
		ast.Item(kOrgIdentifiers, stringsTerm(c.OrgIdentifiers)),
		ast.Item(kClient, ast.StringTerm(c.Client)),
		ast.Item(kScopes, stringsTerm(c.Scopes)),
		ast.Item(kPurposes, stringsTerm(c.Purposes)),
		ast.Item(kBreakGlass, bg),
	)
	if c.FHIRUser != "" {
		obj.Insert(kFHIRUser, ast.StringTerm(c.FHIRUser))
	}
	return obj
}

// inputMemo keeps the AST form of callers and label sets, bounded: building
// them is a third of a trivial evaluation's cost, and a response's decision
// classes share one caller and few label sets.
type inputMemo struct {
	callers     *boundedCache[*ast.Term]
	labelSets   *boundedCache[*ast.Term]
	items       *boundedCache[*ast.Term] // items without facts (item)
	lastCaller  atomic.Pointer[memoCaller]
	lastRequest atomic.Pointer[memoRequest]
}

const inputMemoSize = 1 << 10

func newInputMemo() *inputMemo {
	return &inputMemo{callers: newBoundedCache[*ast.Term](inputMemoSize), labelSets: newBoundedCache[*ast.Term](inputMemoSize),
		items: newBoundedCache[*ast.Term](inputMemoSize)}
}

// request returns r's AST form. The decision classes of a response share
// their request, so the last one built is kept.
func (m *inputMemo) request(r *Request) *ast.Term {
	if m != nil {
		if last := m.lastRequest.Load(); last != nil && last.r == *r {
			return last.t
		}
	}
	t := ast.ObjectTerm(
		ast.Item(kInteraction, ast.StringTerm(r.Interaction)),
		ast.Item(kType, ast.StringTerm(r.Type)),
		// A term of its own, never OPA's shared one for a small integer:
		// the interpreter follows the time by identity (timeWatch).
		ast.Item(kTimeNs, ast.NewTerm(ast.Number(strconv.FormatInt(r.TimeNS, 10)))),
	)
	if m != nil {
		m.lastRequest.Store(&memoRequest{r: *r, t: t})
	}
	return t
}

type memoRequest struct {
	r Request
	t *ast.Term
}

type memoCaller struct {
	c Caller // its own copy of the slices
	t *ast.Term
}

// sameCaller reports whether a and b have the same AST form.
func sameCaller(a, b *Caller) bool {
	if a.Subject != b.Subject || a.Org != b.Org || a.Client != b.Client || a.FHIRUser != b.FHIRUser ||
		!slices.Equal(a.OrgIdentifiers, b.OrgIdentifiers) || !slices.Equal(a.Scopes, b.Scopes) ||
		!slices.Equal(a.Purposes, b.Purposes) || (a.BreakGlass == nil) != (b.BreakGlass == nil) {
		return false
	}
	return a.BreakGlass == nil || *a.BreakGlass == *b.BreakGlass
}

// caller returns c's AST form: the last caller's when c is the same (the
// classes of a response), else from the bounded cache by key.
func (m *inputMemo) caller(c *Caller) *ast.Term {
	if m == nil {
		return ast.NewTerm(c.value())
	}
	if last := m.lastCaller.Load(); last != nil && sameCaller(&last.c, c) {
		return last.t
	}
	t := m.callerByKey(c)
	own := *c
	own.OrgIdentifiers, own.Scopes, own.Purposes = slices.Clone(c.OrgIdentifiers), slices.Clone(c.Scopes), slices.Clone(c.Purposes)
	if c.BreakGlass != nil {
		bg := *c.BreakGlass
		own.BreakGlass = &bg
	}
	m.lastCaller.Store(&memoCaller{c: own, t: t})
	return t
}

func (m *inputMemo) callerByKey(c *Caller) *ast.Term {
	var b strings.Builder
	b.Grow(128)
	c.writeKey(&b)
	key := b.String()
	if t, ok := m.callers.get(key); ok {
		return t
	}
	t := ast.NewTerm(c.value())
	m.callers.put(key, t)
	return t
}

// item returns it's AST form. An item without facts (every item of a
// search or read but those a consent's data or code criteria need facts
// for) is one of few per response and across requests (its type, source
// and label set), so its term is kept, keyed by all three; an item with
// facts is built afresh.
func (m *inputMemo) item(it *Item) *ast.Term {
	if m == nil || it.Facts != nil {
		return ast.NewTerm(it.value(m))
	}
	var buf [320]byte
	b := appendKeyString(buf[:0], it.Type)
	b = appendKeyString(b, it.Source)
	b = appendLabelsKey(b, it.Labels)
	if t, ok := m.items.getBytes(b); ok {
		return t
	}
	t := ast.NewTerm(it.value(m))
	m.items.put(string(b), t)
	return t
}

// appendLabelsKey appends ls to b unambiguously: each label's length, a
// colon, the label.
func appendLabelsKey(b []byte, ls []string) []byte {
	for _, l := range ls {
		b = strconv.AppendInt(b, int64(len(l)), 10)
		b = append(b, ':')
		b = append(b, l...)
	}
	return b
}

// labels returns the AST array of ls.
func (m *inputMemo) labels(ls []string) *ast.Term {
	if m == nil || len(ls) == 0 {
		return stringsTerm(ls)
	}
	// The key on the stack, as long as it fits: looking up a label set
	// the memo holds (most of them) allocates nothing.
	var buf [256]byte
	b := appendLabelsKey(buf[:0], ls)
	if t, ok := m.labelSets.getBytes(b); ok {
		return t
	}
	t := stringsTerm(ls)
	m.labelSets.put(string(b), t)
	return t
}

// writeKey writes every field of c, unambiguously: two callers with the
// same key have the same AST form.
func (c *Caller) writeKey(b *strings.Builder) {
	str := func(s string) {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	list := func(ss []string) {
		b.WriteString(strconv.Itoa(len(ss)))
		b.WriteByte('[')
		for _, s := range ss {
			str(s)
		}
	}
	str(c.Subject)
	str(c.Org)
	list(c.OrgIdentifiers)
	str(c.Client)
	list(c.Scopes)
	list(c.Purposes)
	str(c.FHIRUser)
	if bg := c.BreakGlass; bg != nil {
		b.WriteString("bg")
		str(bg.Reason)
		b.WriteString(strconv.FormatInt(bg.IssuedAt, 10))
		b.WriteByte(',')
		b.WriteString(strconv.FormatInt(bg.ExpiresAt, 10))
	}
}

func stringsTerm(ss []string) *ast.Term {
	terms := make([]*ast.Term, len(ss))
	for i, s := range ss {
		terms[i] = ast.StringTerm(s)
	}
	return ast.ArrayTerm(terms...)
}

// cacheKey returns the key of in's decision among those made with the same
// policy revision: the consent versions, the item class, and every other
// input field the policy reads (r). The request time is left out: the
// cache handles it by validity windows. ok is false when in carries no
// ConsentKey.
func (in *Input) cacheKey(r *reads, typeBlind bool) (key string, ok bool) {
	var buf [512]byte
	b, ok := in.appendCacheKey(buf[:0], r, typeBlind)
	return string(b), ok
}

// appendCacheKey appends cacheKey's key to b.
func (in *Input) appendCacheKey(b []byte, r *reads, typeBlind bool) ([]byte, bool) {
	if in.ConsentKey == "" {
		return b, false
	}
	k := r.keyFields()
	b = append(b, in.ConsentKey...)
	b = append(b, 0)
	if in.Brief && k[keyBrief] {
		b = append(b, "brief"...)
	}
	b = append(b, 0)
	b = in.appendContextKey(b, k)
	if !typeBlind {
		b = appendKeyString(b, in.Item.Type)
	}
	b = append(b, 0)
	b = appendKeyList(b, in.Item.Labels)
	b = appendKeyString(b, in.Item.Source)
	if f := in.Item.Facts; f != nil {
		b = append(b, "facts"...)
		b = appendKeyList(b, f.Codes)
		b = appendKeyString(b, f.Reference)
		if f.TimeNS != nil {
			b = strconv.AppendInt(b, *f.TimeNS, 10)
		}
		if f.TimeEndNS != nil {
			b = append(b, '-')
			b = strconv.AppendInt(b, *f.TimeEndNS, 10)
		}
		b = append(b, 0)
		b = appendKeyList(b, f.CarriedTypes)
		b = appendKeyList(b, f.CarriedCodes)
		b = appendKeyList(b, f.CarriedReferences)
	}
	return b, true
}

// appendContextKey appends, unambiguously, the patient, caller and request
// fields of in that k marks as read (reads.keyFields); the request time is
// left to the caller.
func (in *Input) appendContextKey(b []byte, k *[numKeyFields]bool) []byte {
	field := func(b []byte, f int, s string) []byte {
		if k[f] {
			b = appendKeyString(b, s)
		}
		return append(b, 0)
	}
	list := func(b []byte, f int, ss []string) []byte {
		if k[f] {
			b = appendKeyList(b, ss)
		}
		return append(b, 0)
	}
	b = field(b, keyPatient, in.Patient)
	c := &in.Caller
	b = field(b, keySubject, c.Subject)
	b = field(b, keyOrg, c.Org)
	b = list(b, keyOrgIdentifiers, c.OrgIdentifiers)
	b = field(b, keyClient, c.Client)
	b = list(b, keyScopes, c.Scopes)
	b = list(b, keyPurposes, c.Purposes)
	b = field(b, keyFHIRUser, c.FHIRUser)
	if k[keyCallerIsPatient] && in.CallerIsPatient {
		b = append(b, "self"...)
	}
	b = append(b, 0)
	if bg := c.BreakGlass; bg != nil && k[keyBreakGlass] {
		b = appendKeyString(b, bg.Reason)
		b = strconv.AppendInt(b, bg.IssuedAt, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, bg.ExpiresAt, 10)
	}
	b = append(b, 0)
	b = field(b, keyInteraction, in.Request.Interaction)
	return field(b, keyRequestType, in.Request.Type)
}

// appendKeyString appends s after its length (a varint): no content can
// pass for a separator, whatever bytes a token's claims hold.
func appendKeyString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendKeyList appends ss with its length and each element's.
func appendKeyList(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendKeyString(b, s)
	}
	return b
}
