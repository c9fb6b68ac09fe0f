package proxy

import (
	"bytes"
	"strings"
	"sync"

	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/ds4p/ds4p/labels"
)

// Allocation savers of the response pipeline: a 1,000-entry Bundle would
// otherwise allocate an item, an entry node, a resourceType string and
// three strings per rewritten fullUrl for every entry.

// slabSize is how many items or entries one slab holds at most; a slab
// never grows (a full one is replaced), so pointers into it stay valid.
// Slabs start small and double up to slabSize, so that a read (one item,
// one class) does not zero a slab sized for a 1,000-entry Bundle.
const slabSize = 128

// nextSlab is the capacity of the slab after one of capacity prev.
func nextSlab(prev int) int { return min(max(2*prev, 4), slabSize) }

// newItem returns a zeroed item from the run's slab.
func (r *run) newItem() *item {
	if len(r.itemSlab) == cap(r.itemSlab) {
		r.itemSlab = make([]item, 0, nextSlab(cap(r.itemSlab)))
	}
	r.itemSlab = r.itemSlab[:len(r.itemSlab)+1]
	return &r.itemSlab[len(r.itemSlab)-1]
}

// newClass returns a zeroed class from the run's slab.
func (r *run) newClass() *class {
	if len(r.classSlab) == cap(r.classSlab) {
		r.classSlab = make([]class, 0, nextSlab(cap(r.classSlab)))
	}
	r.classSlab = r.classSlab[:len(r.classSlab)+1]
	return &r.classSlab[len(r.classSlab)-1]
}

// runString returns b as a string carved from the run's chunks: for
// strings that live no longer than the run (class keys). A chunk only
// grows within its capacity, so a string handed out is never written again.
func (r *run) runString(b []byte) string {
	if r.strChunk.Cap()-r.strChunk.Len() < len(b) {
		// Chunks start small and double up to 4 KB: a read needs a few
		// class keys, a 1,000-entry Bundle hundreds.
		next := min(max(2*r.strChunk.Cap(), 256), 4<<10)
		r.strChunk = strings.Builder{} // strings handed out keep the old chunk
		r.strChunk.Grow(max(len(b), next))
	}
	start := r.strChunk.Len()
	r.strChunk.Write(b)
	return r.strChunk.String()[start:]
}

// newEntry returns a zeroed entry node from the run's slab.
func (r *run) newEntry() *entryNode {
	if len(r.entrySlab) == cap(r.entrySlab) {
		r.entrySlab = make([]entryNode, 0, nextSlab(cap(r.entrySlab)))
	}
	r.entrySlab = r.entrySlab[:len(r.entrySlab)+1]
	return &r.entrySlab[len(r.entrySlab)-1]
}

// answerOf returns e's answer (entryNode.ans) to fill in, taken from the
// run's slab the first time: a history's or a batch's entries each have
// one, a searchset's none.
func (r *run) answerOf(e *entryNode) *entryAnswer {
	if e.ans == nil {
		if len(r.ansSlab) == cap(r.ansSlab) {
			r.ansSlab = make([]entryAnswer, 0, nextSlab(cap(r.ansSlab)))
		}
		r.ansSlab = append(r.ansSlab, entryAnswer{outcome: span{-1, -1}, locationAt: span{-1, -1}})
		e.ans = &r.ansSlab[len(r.ansSlab)-1]
	}
	return e.ans
}

// typeName reads the string at b[vs:ve] (a resourceType), interned for the
// run: a Bundle names a handful of types a thousand times.
func (r *run) typeName(vs, ve int) (string, bool) {
	raw, ok := fjson.RawString(r.body, vs, ve)
	if !ok || bytes.IndexByte(raw, '\\') >= 0 {
		return fjson.StringValue(r.body, vs, ve)
	}
	if s, ok := r.typeNames[string(raw)]; ok {
		return s, true
	}
	s, ok := fjson.StringValue(r.body, vs, ve) // validates what it decodes
	if !ok {
		return "", false
	}
	if r.typeNames == nil {
		r.typeNames = map[string]string{}
	}
	r.typeNames[s] = s
	return s, true
}

// rawURLSplice is rewriteRawURL as a splice that writes the public base
// and the rest of the URL straight into the output, allocating nothing.
func (r *run) rawURLSplice(u span) (sp splice, ok, fast bool) {
	start, end := trim(r.body, u.start, u.end)
	raw, isString := fjson.RawString(r.body, start, end)
	if !isString || bytes.IndexByte(raw, '\\') >= 0 {
		return splice{}, false, false
	}
	rest, ok := r.upstreamRest(raw)
	if !ok {
		return splice{}, false, !r.mayNameUpstream(raw)
	}
	from := end - 1 - len(rest)
	return splice{start: start, end: end, quoted: true, data: r.publicEscaped(), from: from, to: end - 1}, true, true
}

// upstreamRest is what follows the upstream base, or an alias of it, in
// raw, when raw starts with one (and a path or query follows, or nothing).
func (r *run) upstreamRest(raw []byte) ([]byte, bool) {
	for _, up := range r.s.upBases {
		if len(raw) < len(up) || string(raw[:len(up)]) != up {
			continue
		}
		if rest := raw[len(up):]; len(rest) == 0 || rest[0] == '/' || rest[0] == '?' {
			return rest, true
		}
	}
	return nil, false
}

// mayNameUpstream reports whether raw, a URL not written with the upstream
// base or an alias as configured, may still name it in another spelling
// (HTTPS://EHR.example, :443, a trailing dot): its authority holds an
// upstream host in some case (mayBeUpstream). Such a URL takes the slow
// path (rewriteBase), which parses it; a relative one, a urn:uuid or
// another server's takes none.
func (r *run) mayNameUpstream(raw []byte) bool {
	i := bytes.Index(raw, []byte("://"))
	if i < 0 {
		return false
	}
	hs, local := &r.s.upHosts, upstreamHosts{}
	if !hs.done { // a Server not built by New
		hs = &local
	}
	return hs.mayBeUpstream(r.s.upBases, authorityAt(raw, i+3))
}

// publicEscaped is the caller's view of the FHIR base as JSON string
// content, computed once per response.
func (r *run) publicEscaped() []byte {
	if r.pubEsc == nil {
		q := fjson.AppendString(nil, r.ex.publicBase)
		r.pubEsc = q[1 : len(q)-1]
	}
	return r.pubEsc
}

// rewriteRawURL is rewriteURL for a string without escapes, done on its
// bytes: the edit's data is built in one allocation. fast is false when the
// string has escapes, or may name the upstream in another spelling
// (mayNameUpstream): the caller decodes it.
func (r *run) rewriteRawURL(start, end int) (e fjson.Edit, ok, fast bool) {
	raw, isString := fjson.RawString(r.body, start, end)
	if !isString || bytes.IndexByte(raw, '\\') >= 0 {
		return fjson.Edit{}, false, false
	}
	rest, ok := r.upstreamRest(raw)
	if !ok {
		return fjson.Edit{}, false, !r.mayNameUpstream(raw)
	}
	pub := r.publicEscaped()
	data := make([]byte, 0, len(pub)+len(rest)+2)
	data = append(append(append(append(data, '"'), pub...), rest...), '"')
	return fjson.Edit{Start: start, End: end, Data: data}, true, true
}

// compareSplices orders splices by start, an insertion before a replacement
// that starts where it is.
func compareSplices(a, b splice) int {
	if a.start != b.start {
		return a.start - b.start
	}
	ai, bi := a.end == a.start, b.end == b.start
	switch {
	case ai && !bi:
		return -1
	case bi && !ai:
		return 1
	}
	return 0
}

// labelStrings returns the String forms of s ("system|code") for the
// ledger or the policy input: each distinct label's string is made once per
// run, and the slices are carved from a slab (capacity clipped, so an
// append never reaches the next one). Like the package function
// labelStrings, an empty s gives an empty, non-nil slice.
func (r *run) labelStrings(s labels.Set) []string {
	if len(s) == 0 {
		return []string{}
	}
	if cap(r.strSlab)-len(r.strSlab) < len(s) {
		r.strSlab = make([]string, 0, max(len(s), 4*nextSlab(cap(r.strSlab)/4)))
	}
	n := len(r.strSlab)
	for _, l := range s {
		str, ok := r.labelStr[l]
		if !ok {
			if r.labelStr == nil {
				r.labelStr = map[labels.Label]string{}
			}
			str = l.String()
			r.labelStr[l] = str
		}
		r.strSlab = append(r.strSlab, str)
	}
	return r.strSlab[n:len(r.strSlab):len(r.strSlab)]
}

// Output buffers. A response's output is a new copy of its body (a
// 1,000-entry search: 2.5 MB); allocating it anew for every response made
// the garbage collector run about a third more often. Buffers of at least
// minPooledOut bytes are recycled once the caller has the response. A
// recycled buffer is written from its start and only its written part is
// ever read, so nothing of an earlier response shows through.
var outBufs sync.Pool // of *[]byte

const (
	minPooledOut = 64 << 10
	maxPooledOut = 64 << 20 // larger ones go to the garbage collector
)

// outBuffer returns an empty buffer with room for n bytes: a recycled one
// when one is big enough.
func outBuffer(n int) []byte {
	if n >= minPooledOut {
		if p, ok := outBufs.Get().(*[]byte); ok && cap(*p) >= n {
			return (*p)[:0]
		}
	}
	return make([]byte, 0, n)
}

// recycleOut puts b, an output buffer nothing else refers to any more,
// back for reuse.
func recycleOut(b []byte) {
	if cap(b) >= minPooledOut && cap(b) <= maxPooledOut {
		b = b[:0]
		outBufs.Put(&b)
	}
}

// recycledBody is a response body over an output buffer that goes back to
// outBufs when the body is closed (ReverseProxy closes it once the caller
// has been sent everything, or has gone).
type recycledBody struct {
	r   bytes.Reader
	buf []byte
}

func newRecycledBody(b []byte) *recycledBody {
	rb := &recycledBody{buf: b}
	rb.r.Reset(b)
	return rb
}

func (rb *recycledBody) Read(p []byte) (int, error) { return rb.r.Read(p) }

func (rb *recycledBody) Close() error {
	if rb.buf != nil {
		rb.r.Reset(nil)
		recycleOut(rb.buf)
		rb.buf = nil
	}
	return nil
}

// sharesArray reports whether a and b are slices of one array.
func sharesArray(a, b []byte) bool {
	return cap(a) > 0 && cap(b) > 0 && &a[:cap(a)][cap(a)-1] == &b[:cap(b)][cap(b)-1]
}
