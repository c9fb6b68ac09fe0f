package proxy

import (
	"bytes"
	"io"
)

// WithheldQuotes wraps w, the output of the standard library's log package,
// so that each line is cut at its first double quote. net/http's transport
// logs the bytes an upstream sends unasked on an idle connection, quoted
// ("Unsolicited response received on idle HTTP channel starting with %q"),
// and those bytes can carry data; no PHI goes to a log. `ds4p serve` sets
// it with log.SetOutput.
func WithheldQuotes(w io.Writer) io.Writer { return quoteCutter{w} }

type quoteCutter struct{ w io.Writer }

// Write writes one log line, cut at its first double quote.
func (q quoteCutter) Write(p []byte) (int, error) {
	i := bytes.IndexByte(p, '"')
	if i < 0 {
		return q.w.Write(p)
	}
	line := append(p[:i:i], "(quoted text withheld)\n"...)
	if _, err := q.w.Write(line); err != nil {
		return 0, err
	}
	return len(p), nil
}
