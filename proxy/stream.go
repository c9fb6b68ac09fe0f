package proxy

import (
	"bytes"
	"context"
	"errors"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/klauspost/compress/gzip"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
)

// Streamed output. A large Bundle is not rendered into a buffer of its own
// beside the upstream body: that doubled the memory a response holds. It
// is rendered twice instead, both times in chunks of about streamChunk
// bytes (writeEntries hands a chunk to run.sink between entries):
//
//  1. before anything is released, into nothing but a length and a
//     checksum per chunk (planStream). Every step that can fail fails here,
//     and the response is withheld as before; then the ledger records the
//     disclosure (process);
//  2. once the caller reads the body, straight to the caller (or, when it
//     accepts gzip, at once into a gzipped buffer, setStreamBody), from the
//     same body and the same decisions. Each
//     chunk must match its checksum from the first rendering before it is
//     written: should a chunk differ (a bug: rendering is a function of the
//     body and the decisions), nothing more is written and the connection
//     is cut, so the caller sees a broken response rather than bytes that
//     were never checked.
//
// A response holds the body, what the pipeline built from it, and one
// chunk (BenchmarkInFlightMemory), or the gzipped answer. Bodies below Options.StreamAboveBytes (reads, short pages) are
// rendered once into a buffer, which costs less CPU than two renderings.

// streamAll, set by the package's tests (DS4P_TEST_STREAM_ALL=1), streams
// every Bundle whatever Options.StreamAboveBytes says.
var streamAll bool

// streams reports whether a Bundle of n body bytes is streamed.
func (s *Server) streams(n int) bool { return streamAll || n >= s.opts.StreamAboveBytes }

// streamChunk is the size at which rendering hands its output on.
const streamChunk = 64 << 10

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errStreamDiverged: the second rendering differed from the first.
var errStreamDiverged = errors.New("the streamed rendering differs from the checked one")

// streamsCut counts responses cut because their second rendering differed
// from the first: a bug to alert on (none is expected).
var streamsCut, _ = otel.Meter("github.com/ds4p/ds4p/proxy").Int64Counter("ds4p.response.streams_cut",
	metric.WithDescription("streamed responses cut because the rendering sent differed from the one checked (a bug; none expected)"))

// chunkBufs are the renderings' chunk buffers.
var chunkBufs = sync.Pool{New: func() any { b := make([]byte, 0, 2*streamChunk); return &b }}

// stream is a Bundle rendered once (planStream) and ready to be rendered
// again to the caller.
type stream struct {
	r      *run
	root   *bundleNode
	length int64
	sums   []uint32
}

// flushChunk hands dst to the sink when it holds a chunk's worth, and
// returns what to go on appending to.
func (r *run) flushChunk(dst []byte) ([]byte, error) {
	if r.sink == nil || len(dst) < streamChunk {
		return dst, nil
	}
	if err := r.sink(dst); err != nil {
		return nil, err
	}
	return dst[:0], nil
}

// renderChunks renders root through sink, the last chunk included.
func (r *run) renderChunks(root *bundleNode, sink func([]byte) error) error {
	p := chunkBufs.Get().(*[]byte)
	r.sink = sink
	dst, err := r.renderBundle((*p)[:0], root)
	r.sink = nil
	if err == nil && len(dst) > 0 {
		err = sink(dst)
	}
	if cap(dst) <= 4*streamChunk {
		*p = dst[:0]
	}
	chunkBufs.Put(p)
	return err
}

// planStream is the first rendering: every failure of rendering happens
// here, before the ledger records anything and before any byte leaves.
func (r *run) planStream(root *bundleNode) (*stream, error) {
	st := &stream{r: r, root: root}
	err := r.renderChunks(root, func(b []byte) error {
		st.length += int64(len(b))
		st.sums = append(st.sums, crc32.Checksum(b, crcTable))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// writeTo is the second rendering, to w, chunk by chunk, each checked
// against the first rendering before it is written.
func (st *stream) writeTo(w io.Writer) error {
	i := 0
	err := st.r.renderChunks(st.root, func(b []byte) error {
		if i >= len(st.sums) || crc32.Checksum(b, crcTable) != st.sums[i] {
			return errStreamDiverged
		}
		i++
		_, err := w.Write(b)
		return err
	})
	if err == nil && i != len(st.sums) {
		err = errStreamDiverged
	}
	return err
}

// streamBody is the response body of a stream: the second rendering runs
// in a goroutine of its own when the caller first reads, writing into a
// pipe. Close (ReverseProxy closes the body once the caller has it, or has
// gone) stops it, waits for it, and recycles the upstream body.
type streamBody struct {
	s       *Server
	st      *stream
	pr      *io.PipeReader
	pw      *io.PipeWriter
	started sync.Once
	done    chan struct{}
	closed  sync.Once
}

func newStreamBody(s *Server, st *stream) *streamBody {
	pr, pw := io.Pipe()
	return &streamBody{s: s, st: st, pr: pr, pw: pw, done: make(chan struct{})}
}

func (b *streamBody) start() {
	go func() {
		defer close(b.done)
		// The rendering ran once already on the request's goroutine, where
		// a panic is recovered into a withheld response; here, outside that
		// recovery, one would take the process down. Cut the response.
		defer func() {
			if recover() != nil {
				streamsCut.Add(context.Background(), 1)
				b.s.log.Error("response cut: its streamed rendering panicked", "request_id", b.st.r.ex.requestID)
				_ = b.pw.CloseWithError(errors.New("the streamed rendering failed"))
			}
		}()
		err := b.st.writeTo(b.pw)
		// Rendered: the body serves the next response while the caller
		// reads the last chunk.
		b.release()
		if errors.Is(err, errStreamDiverged) {
			streamsCut.Add(context.Background(), 1)
			b.s.log.Error("response cut: its streamed rendering differed from the checked one", "request_id", b.st.r.ex.requestID)
		}
		_ = b.pw.CloseWithError(err) // nil: the caller reads io.EOF
	}()
}

// release recycles the upstream body: once, by the rendering when it ran,
// else by Close.
func (b *streamBody) release() {
	recycleOut(b.st.r.body)
	b.st.r.body = nil
}

func (b *streamBody) Read(p []byte) (int, error) {
	b.started.Do(b.start)
	return b.pr.Read(p)
}

func (b *streamBody) Close() error {
	b.closed.Do(func() {
		_ = b.pr.CloseWithError(errors.New("the response body was closed"))
		started := true
		b.started.Do(func() { started = false })
		if started {
			<-b.done
		} else {
			b.release()
		}
	})
	return nil
}

// setStreamBody is setOwnedBody for a stream. A caller that accepts gzip
// gets the second rendering gzipped here, whole, with its length, as
// setOwnedBody gzips a rendered body: streamed, it went chunked, without a
// Content-Length, and whether a Bundle is streamed depends on the size of
// the upstream's body, withheld entries included, so the framing told a
// caller that something (and how much) was withheld where the same
// disclosed entries rendered carried their length. Gzip's output does not
// depend on how its input is cut into writes, so the bytes are a rendered
// body's too. Should the rendering differ from the checked one (a bug),
// the answer is cut as a streamed one is.
func (s *Server) setStreamBody(resp *http.Response, ex *exchange, st *stream) {
	h := resp.Header
	h.Set("Content-Type", fhirJSON)
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Accept-Encoding")
	resp.TransferEncoding = nil
	resp.Trailer = nil
	if ex.acceptGzip && st.length >= 1024 { // as setOwnedBody
		zipped, err := st.gzipped()
		recycleOut(st.r.body)
		st.r.body = nil
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Length", strconv.Itoa(len(zipped)))
		resp.ContentLength = int64(len(zipped))
		resp.Body = io.NopCloser(bytes.NewReader(zipped))
		if err != nil {
			streamsCut.Add(context.Background(), 1)
			s.log.Error("response cut: its streamed rendering differed from the checked one", "request_id", ex.requestID)
			resp.Body = io.NopCloser(errReader{err})
		}
		return
	}
	h.Set("Content-Length", strconv.FormatInt(st.length, 10))
	resp.ContentLength = st.length
	resp.Body = newStreamBody(s, st)
}

// gzipped is the second rendering (writeTo, checked chunk by chunk)
// through gzip into one buffer.
func (st *stream) gzipped() ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(int(st.length / 4))
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(&buf)
	err := st.writeTo(zw)
	if err == nil {
		err = zw.Close()
	}
	zw.Reset(io.Discard)
	gzipWriters.Put(zw)
	return buf.Bytes(), err
}

// errReader fails every read with err: the reverse proxy then cuts the
// answer.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }
