package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/ds4p/ds4p/internal/fjson"
)

// Decoding stored entries without reflection.
//
// Every read of the ledger decodes entries: the console's charts read each
// new entry once, auditors' queries and exports read what they return. A
// search's entry names its ~1,000 items, and encoding/json's reflection
// decoded one in ~1–2 ms: 9 % of ds4p's CPU while it served 1,000-entry
// searches at concurrency 1 (`perf` on `ds4p serve`, the console's chart
// counters tailing the ledger).
//
// decodeFast decodes the JSON appendEntryJSON writes, in any member order,
// and declines (ok false) anything else: an unknown, duplicated or escaped
// member name, a value of another type, null where a string or an object
// is, a seq that is not a plain unsigned integer, bytes after the entry.
// decodeEntry then decodes it with encoding/json, so an entry decodes to
// exactly what json.Unmarshal makes of it either way (FuzzDecodeEntry
// compares the two). A string with escapes (appendJSONString writes & as
// \u0026) is decoded by encoding/json alone, so escapes mean what they
// always meant.

// errDecline is decodeFast declining an entry; it never leaves the package.
var errDecline = errors.New("not the canonical form")

// decoder holds what one entry's decoding interns: a search's entry names a
// handful of types and labels a thousand times.
type decoder struct {
	b       []byte
	intern  map[string]string
	scratch []string
	// The item being decoded, and the members it had.
	item     Item
	itemSeen uint8
	itemFn   func(key []byte, vs int) (int, error)
}

// decodeFast decodes v as decodeEntry does, or declines it.
func decodeFast(v []byte) (e Entry, ok bool) {
	d := decoder{b: v}
	var seen uint32
	end, err := fjson.ObjectScan(v, 0, func(key []byte, vs int) (int, error) {
		bit, err := entryMember(key)
		if err != nil || seen&bit != 0 {
			return 0, errDecline
		}
		seen |= bit
		switch bit {
		case mSeq:
			return d.uint(vs, &e.Seq)
		case mTime:
			ve, err := fjson.String(v, vs)
			if err != nil {
				return 0, errDecline
			}
			if e.Time.UnmarshalJSON(v[vs:ve]) != nil {
				return 0, errDecline
			}
			return ve, nil
		case mRequestID:
			return d.str(vs, &e.RequestID, false)
		case mCaller:
			return d.caller(vs, &e.Caller)
		case mPurposes:
			return d.strs(vs, &e.Purposes, false)
		case mPatient:
			return d.str(vs, &e.Patient, false)
		case mInteraction:
			return d.str(vs, &e.Interaction, true)
		case mQuery:
			return d.str(vs, &e.Query, false)
		case mDisclosed:
			return d.items(vs, &e.Disclosed)
		case mWithheld:
			return d.items(vs, &e.Withheld)
		case mRedacted:
			return d.items(vs, &e.Redacted)
		case mConsents:
			return d.consents(vs, &e.Consents)
		case mPolicyRevision:
			return d.str(vs, &e.PolicyRevision, true)
		case mRulesRevision:
			return d.str(vs, &e.RulesRevision, true)
		case mBreakGlass:
			return d.breakGlass(vs, &e.BreakGlass)
		case mAlert:
			return d.str(vs, &e.Alert, false)
		case mPrevHash:
			return d.str(vs, &e.PrevHash, false)
		case mHash:
			return d.str(vs, &e.Hash, false)
		}
		return 0, errDecline
	})
	if err != nil || fjson.SkipSpace(v, end) != len(v) {
		return Entry{}, false
	}
	return e, true
}

// The members of an entry, one bit each.
const (
	mSeq uint32 = 1 << iota
	mTime
	mRequestID
	mCaller
	mPurposes
	mPatient
	mInteraction
	mQuery
	mDisclosed
	mWithheld
	mRedacted
	mConsents
	mPolicyRevision
	mRulesRevision
	mBreakGlass
	mAlert
	mPrevHash
	mHash
)

func entryMember(key []byte) (uint32, error) {
	switch string(key) {
	case "seq":
		return mSeq, nil
	case "time":
		return mTime, nil
	case "request_id":
		return mRequestID, nil
	case "caller":
		return mCaller, nil
	case "purposes":
		return mPurposes, nil
	case "patient":
		return mPatient, nil
	case "interaction":
		return mInteraction, nil
	case "query":
		return mQuery, nil
	case "disclosed":
		return mDisclosed, nil
	case "withheld":
		return mWithheld, nil
	case "redacted":
		return mRedacted, nil
	case "consents":
		return mConsents, nil
	case "policy_revision":
		return mPolicyRevision, nil
	case "rules_revision":
		return mRulesRevision, nil
	case "break_glass":
		return mBreakGlass, nil
	case "alert":
		return mAlert, nil
	case "prev_hash":
		return mPrevHash, nil
	case "hash":
		return mHash, nil
	}
	return 0, errDecline
}

// str decodes the string at vs into dst, interned when intern (values a
// ledger repeats); a string with escapes goes through encoding/json.
func (d *decoder) str(vs int, dst *string, intern bool) (int, error) {
	if vs >= len(d.b) || d.b[vs] != '"' {
		return 0, errDecline // null, or not a string
	}
	ve, err := fjson.String(d.b, vs)
	if err != nil {
		return 0, errDecline
	}
	raw := d.b[vs+1 : ve-1]
	if bytes.IndexByte(raw, '\\') >= 0 {
		var u string // on the heap only here: json.Unmarshal keeps its argument
		if json.Unmarshal(d.b[vs:ve], &u) != nil {
			return 0, errDecline
		}
		*dst = u
		return ve, nil
	}
	if !intern {
		*dst = string(raw)
		return ve, nil
	}
	if s, ok := d.intern[string(raw)]; ok {
		*dst = s
		return ve, nil
	}
	if d.intern == nil {
		d.intern = make(map[string]string, 16)
	}
	s := string(raw)
	d.intern[s] = s
	*dst = s
	return ve, nil
}

// uint decodes a plain unsigned integer (digits, no leading zero), as
// encoding/json decodes it into a uint64.
func (d *decoder) uint(vs int, dst *uint64) (int, error) {
	ve := vs
	for ve < len(d.b) && d.b[ve] >= '0' && d.b[ve] <= '9' {
		ve++
	}
	if ve == vs || ve-vs > 1 && d.b[vs] == '0' || ve < len(d.b) && (d.b[ve] == '.' || d.b[ve] == 'e' || d.b[ve] == 'E') {
		return 0, errDecline
	}
	n, err := strconv.ParseUint(string(d.b[vs:ve]), 10, 64)
	if err != nil {
		return 0, errDecline
	}
	*dst = n
	return ve, nil
}

// list decodes an array (each element by elem) or null (nil), as
// encoding/json decodes into a slice: [] is empty, not nil.
func (d *decoder) list(vs int, empty func(), elem func(vs int) (int, error)) (int, error) {
	if end, ok := d.null(vs); ok {
		return end, nil
	}
	if vs >= len(d.b) || d.b[vs] != '[' {
		return 0, errDecline
	}
	empty()
	return fjson.ArrayScan(d.b, vs, elem)
}

// null reports whether the value at vs is null, and its end.
func (d *decoder) null(vs int) (int, bool) {
	if len(d.b)-vs >= 4 && string(d.b[vs:vs+4]) == "null" {
		return vs + 4, true
	}
	return 0, false
}

// strs decodes a list of strings (or null) into a slice of its exact
// length, without a closure per list: labels are a list per item.
func (d *decoder) strs(vs int, dst *[]string, intern bool) (int, error) {
	if end, ok := d.null(vs); ok {
		return end, nil
	}
	b := d.b
	if vs >= len(b) || b[vs] != '[' {
		return 0, errDecline
	}
	d.scratch = d.scratch[:0]
	i := fjson.SkipSpace(b, vs+1)
	if i < len(b) && b[i] == ']' {
		*dst = []string{}
		return i + 1, nil
	}
	for {
		var s string
		ve, err := d.str(i, &s, intern)
		if err != nil {
			return 0, err
		}
		d.scratch = append(d.scratch, s)
		if i = fjson.SkipSpace(b, ve); i >= len(b) {
			return 0, errDecline
		}
		switch b[i] {
		case ',':
			i = fjson.SkipSpace(b, i+1)
			continue
		case ']':
			*dst = append(make([]string, 0, len(d.scratch)), d.scratch...)
			return i + 1, nil
		}
		return 0, errDecline
	}
}

func (d *decoder) items(vs int, dst *[]Item) (int, error) {
	if d.itemFn == nil {
		d.itemFn = d.itemMember // bound once: a closure per item would be allocated per item
	}
	return d.list(vs, func() { *dst = []Item{} }, func(es int) (int, error) {
		d.item, d.itemSeen = Item{}, 0
		end, err := d.object(es, d.itemFn)
		*dst = append(*dst, d.item)
		return end, err
	})
}

// itemMember decodes one member of the item being decoded (d.item).
func (d *decoder) itemMember(key []byte, ks int) (int, error) {
	var bit uint8
	var ve int
	var err error
	switch string(key) {
	case "type":
		bit = 1
		ve, err = d.str(ks, &d.item.Type, true)
	case "id":
		bit = 2
		ve, err = d.str(ks, &d.item.ID, false)
	case "version":
		bit = 4
		ve, err = d.str(ks, &d.item.Version, true)
	case "labels":
		bit = 8
		ve, err = d.strs(ks, &d.item.Labels, true)
	case "reasons":
		bit = 16
		ve, err = d.strs(ks, &d.item.Reasons, true)
	default:
		return 0, errDecline
	}
	if d.itemSeen&bit != 0 {
		return 0, errDecline
	}
	d.itemSeen |= bit
	return ve, err
}

func (d *decoder) consents(vs int, dst *[]ConsentRef) (int, error) {
	return d.list(vs, func() { *dst = []ConsentRef{} }, func(es int) (int, error) {
		var c ConsentRef
		end, err := d.strObject(es, []strField{{"id", &c.ID, true}, {"version", &c.Version, true}})
		*dst = append(*dst, c)
		return end, err
	})
}

func (d *decoder) caller(vs int, p *Party) (int, error) {
	strs := d.strMembers([]strField{{"subject", &p.Subject, true}, {"org", &p.Org, true},
		{"client", &p.Client, true}, {"name", &p.Name, true}, {"address", &p.Address, true}})
	seenPatientUser := false
	return d.object(vs, func(key []byte, ks int) (int, error) {
		if string(key) != "patient_user" {
			return strs(key, ks)
		}
		// appendEntryJSON writes it only as true (omitempty); anything
		// else goes to encoding/json.
		if seenPatientUser || len(d.b)-ks < 4 || string(d.b[ks:ks+4]) != "true" {
			return 0, errDecline
		}
		seenPatientUser, p.PatientUser = true, true
		return ks + 4, nil
	})
}

func (d *decoder) breakGlass(vs int, dst **BreakGlass) (int, error) {
	if end, ok := d.null(vs); ok {
		*dst = nil
		return end, nil
	}
	bg := &BreakGlass{}
	*dst = bg
	return d.strObject(vs, []strField{{"reason", &bg.Reason, false}, {"recipient", &bg.Recipient, false},
		{"affiliation", &bg.Affiliation, false}, {"disclosed_by", &bg.DisclosedBy, false}})
}

// strField is a string member of an object: its name, where it goes and
// whether it is interned.
type strField struct {
	name   string
	dst    *string
	intern bool
}

// strObject decodes an object whose members are strings named in fields,
// each at most once.
func (d *decoder) strObject(vs int, fields []strField) (int, error) {
	return d.object(vs, d.strMembers(fields))
}

// strMembers decodes the members of an object that are strings named in
// fields, each at most once, and declines any other.
func (d *decoder) strMembers(fields []strField) func(key []byte, ks int) (int, error) {
	var seen uint32
	return func(key []byte, ks int) (int, error) {
		for i, f := range fields {
			if string(key) != f.name {
				continue
			}
			if seen&(1<<i) != 0 {
				return 0, errDecline
			}
			seen |= 1 << i
			return d.str(ks, f.dst, f.intern)
		}
		return 0, errDecline
	}
}

// object walks the object at vs, which must be one.
func (d *decoder) object(vs int, fn func(key []byte, vs int) (int, error)) (int, error) {
	if vs >= len(d.b) || d.b[vs] != '{' {
		return 0, errDecline
	}
	return fjson.ObjectScan(d.b, vs, fn)
}
