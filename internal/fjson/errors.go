package fjson

import "strconv"

// SyntaxError reports malformed JSON and where it was found. Msg never
// quotes the input, so that an error can be logged without leaking data.
type SyntaxError struct {
	Offset int    // index of the offending byte
	Msg    string // what is wrong, e.g. "unterminated string"
}

// Error implements error.
func (e *SyntaxError) Error() string {
	return "fjson: " + e.Msg + " at offset " + strconv.Itoa(e.Offset)
}

// errAt returns a *SyntaxError for offset i.
func errAt(i int, msg string) error {
	return &SyntaxError{Offset: i, Msg: msg}
}

// errEnd reports input that ends where a value or delimiter was expected.
func errEnd(b []byte) error {
	return errAt(len(b), "unexpected end of input")
}
