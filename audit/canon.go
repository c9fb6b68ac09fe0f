package audit

import (
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// appendEntryJSON appends e's JSON exactly as encoding/json's Marshal
// writes it (field order and names from Entry's tags, omitempty, null for
// nil lists and BreakGlass, HTML-safe string escaping), without
// reflection: the ledger encodes every entry it links, and Marshal was
// most of that cost. ok is false when e's time cannot be encoded (a year
// outside 0–9999), and the caller then asks Marshal for its error.
// TestEntryJSONMatchesMarshal and FuzzEntryJSON hold it to Marshal's bytes.
func appendEntryJSON(dst []byte, e *Entry) (out []byte, ok bool) {
	orig := dst
	dst = append(dst, `{"seq":`...)
	dst = strconv.AppendUint(dst, e.Seq, 10)
	dst = append(dst, `,"time":"`...)
	// Marshal's time: MarshalJSON's RFC 3339 text, quoted (it needs no
	// escape), written in place without MarshalJSON's allocation.
	dst, err := e.Time.AppendText(dst)
	if err != nil {
		return orig, false
	}
	dst = append(dst, '"')
	dst = append(dst, `,"request_id":`...)
	dst = appendJSONString(dst, e.RequestID)
	dst = append(dst, `,"caller":{"subject":`...)
	dst = appendJSONString(dst, e.Caller.Subject)
	dst = append(dst, `,"org":`...)
	dst = appendJSONString(dst, e.Caller.Org)
	dst = append(dst, `,"client":`...)
	dst = appendJSONString(dst, e.Caller.Client)
	if e.Caller.Name != "" {
		dst = append(dst, `,"name":`...)
		dst = appendJSONString(dst, e.Caller.Name)
	}
	if e.Caller.Address != "" {
		dst = append(dst, `,"address":`...)
		dst = appendJSONString(dst, e.Caller.Address)
	}
	if e.Caller.PatientUser {
		dst = append(dst, `,"patient_user":true`...)
	}
	dst = append(dst, `},"purposes":`...)
	dst = appendJSONStrings(dst, e.Purposes)
	dst = append(dst, `,"patient":`...)
	dst = appendJSONString(dst, e.Patient)
	dst = append(dst, `,"interaction":`...)
	dst = appendJSONString(dst, e.Interaction)
	dst = append(dst, `,"query":`...)
	dst = appendJSONString(dst, e.Query)
	dst = append(dst, `,"disclosed":`...)
	dst = appendJSONItems(dst, e.Disclosed)
	dst = append(dst, `,"withheld":`...)
	dst = appendJSONItems(dst, e.Withheld)
	dst = append(dst, `,"redacted":`...)
	dst = appendJSONItems(dst, e.Redacted)
	dst = append(dst, `,"consents":`...)
	if e.Consents == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i, c := range e.Consents {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"id":`...)
			dst = appendJSONString(dst, c.ID)
			dst = append(dst, `,"version":`...)
			dst = appendJSONString(dst, c.Version)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"policy_revision":`...)
	dst = appendJSONString(dst, e.PolicyRevision)
	if e.RulesRevision != "" {
		dst = append(dst, `,"rules_revision":`...)
		dst = appendJSONString(dst, e.RulesRevision)
	}
	dst = append(dst, `,"break_glass":`...)
	if bg := e.BreakGlass; bg == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, `{"reason":`...)
		dst = appendJSONString(dst, bg.Reason)
		dst = append(dst, `,"recipient":`...)
		dst = appendJSONString(dst, bg.Recipient)
		dst = append(dst, `,"affiliation":`...)
		dst = appendJSONString(dst, bg.Affiliation)
		dst = append(dst, `,"disclosed_by":`...)
		dst = appendJSONString(dst, bg.DisclosedBy)
		dst = append(dst, '}')
	}
	if e.Alert != "" {
		dst = append(dst, `,"alert":`...)
		dst = appendJSONString(dst, e.Alert)
	}
	dst = append(dst, `,"prev_hash":`...)
	dst = appendJSONString(dst, e.PrevHash)
	if e.Hash != "" {
		dst = append(dst, `,"hash":`...)
		dst = appendJSONString(dst, e.Hash)
	}
	return append(dst, '}'), true
}

// entryJSONSize is the length of e's JSON as link writes it (e.Hash
// empty, then the hash member added) when no string needs an escape, which only lengthens it: link sizes its buffer by it,
// so that a search's entry of ~150 KB is written into one allocation
// rather than grown through a dozen.
func entryJSONSize(e *Entry) int {
	const (
		fixed = 340 // member names, punctuation, null lists, the time
		item  = 45  // {"type":"","id":"","version":"","labels":[]},
	)
	n := fixed + 20 + len(e.RequestID) + len(e.Caller.Subject) + len(e.Caller.Org) + len(e.Caller.Client) +
		len(e.Caller.Name) + len(e.Caller.Address) + len(e.Patient) + len(e.Interaction) + len(e.Query) +
		len(e.PolicyRevision) + len(e.RulesRevision) + len(`,"rules_revision":`) + len(e.Alert) + len(e.PrevHash) + 80 + stringsSize(e.Purposes) // 80: the hash member link adds
	if e.Caller.PatientUser {
		n += len(`,"patient_user":true`)
	}
	for _, items := range [3][]Item{e.Disclosed, e.Withheld, e.Redacted} {
		for i := range items {
			it := &items[i]
			n += item + len(it.Type) + len(it.ID) + len(it.Version) + stringsSize(it.Labels)
			if len(it.Reasons) > 0 {
				n += 12 + stringsSize(it.Reasons) // ,"reasons":[]
			}
		}
	}
	for _, c := range e.Consents {
		n += 26 + len(c.ID) + len(c.Version)
	}
	if bg := e.BreakGlass; bg != nil {
		n += 70 + len(bg.Reason) + len(bg.Recipient) + len(bg.Affiliation) + len(bg.DisclosedBy)
	}
	return n
}

// stringsSize is the length of ss as a JSON list of strings that need no
// escape, less its brackets.
func stringsSize(ss []string) int {
	n := 0
	for _, s := range ss {
		n += len(s) + 3
	}
	return n
}

func appendJSONItems(dst []byte, items []Item) []byte {
	if items == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i := range items {
		it := &items[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"type":`...)
		dst = appendJSONString(dst, it.Type)
		dst = append(dst, `,"id":`...)
		dst = appendJSONString(dst, it.ID)
		dst = append(dst, `,"version":`...)
		dst = appendJSONString(dst, it.Version)
		dst = append(dst, `,"labels":`...)
		dst = appendJSONStrings(dst, it.Labels)
		if len(it.Reasons) > 0 { // omitempty
			dst = append(dst, `,"reasons":`...)
			dst = appendJSONStrings(dst, it.Reasons)
		}
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

func appendJSONStrings(dst []byte, ss []string) []byte {
	if ss == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, s)
	}
	return append(dst, ']')
}

// appendJSONString is encoding/json's string encoding with HTML escaping
// (Go's encode.go, appendString): <, > and & as \u00XX, the other control
// bytes as \b \f \n \r \t or \u00XX, invalid UTF-8 as \ufffd, and U+2028
// and U+2029 escaped.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight bytes a step while none needs a closer look: a search's
		// entry has thousands of ids and labels, nearly all plain.
		if i+8 <= len(s) {
			if m := escapeMask(load64(s, i)); m == 0 {
				i += 8
				continue
			} else {
				i += bits.TrailingZeros64(m) >> 3
			}
		}
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// escapeMask returns a mask with the high bit set in each of the eight
// bytes of x (little-endian) that appendJSONString must look at: a control
// byte, '"', '\\', '<', '>', '&', or any byte of a non-ASCII character. A
// byte after a set one may be set too (a borrow), so the lowest set bit
// marks the first such byte exactly.
//
// Per byte, with no borrow from below: x-0x20 sets the high bit of bytes
// below 0x20 and from 0xA0; (x^c)-1 sets it where x == c, and for bytes
// from 0x80 but c|0x80, which is from 0xA0 for each c here. Each sets only
// bytes to look at, and a borrow comes only from a byte below that is
// itself set (fjson's special, with the HTML characters;
// TestEscapeMaskExact checks every byte value in every position).
func escapeMask(x uint64) uint64 {
	eq := func(c uint64) uint64 { return (x ^ (c * lsb)) - lsb }
	return ((x - 0x20*lsb) | eq('"') | eq('\\') | eq('<') | eq('>') | eq('&')) & msb
}

// load64 reads s[i:i+8] as a little-endian word (one load: the compiler
// combines the bytes).
func load64(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}
