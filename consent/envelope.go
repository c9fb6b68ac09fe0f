package consent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// header is the first line of a stored version: what Record needs without
// parsing the resource.
type header struct {
	Patient string    `json:"patient"`
	Status  string    `json:"status"`
	Updated time.Time `json:"updated"`
	Author  string    `json:"author,omitempty"`
}

// encodeEnvelope returns the header line, a newline and the resource bytes.
// The header cannot contain a newline: encoding/json escapes it in strings.
func encodeEnvelope(rec Record) ([]byte, error) {
	h, err := json.Marshal(header{Patient: rec.Patient, Status: rec.Status, Updated: rec.Updated, Author: rec.Author})
	if err != nil {
		return nil, fmt.Errorf("encoding header: %w", err)
	}
	env := make([]byte, 0, len(h)+1+len(rec.JSON))
	env = append(append(env, h...), '\n')
	return append(env, rec.JSON...), nil
}

// decodeEnvelope reads a stored version, copying everything it keeps, since
// env belongs to the transaction.
func decodeEnvelope(id string, version uint64, env []byte) (Record, error) {
	h, body, ok := bytes.Cut(env, []byte("\n"))
	if !ok {
		return Record{}, errors.New("stored version has no header line")
	}
	var hd header
	if err := json.Unmarshal(h, &hd); err != nil {
		return Record{}, fmt.Errorf("decoding the header of version %d: %w", version, err)
	}
	return Record{
		ID:      id,
		Version: version,
		Patient: hd.Patient,
		Status:  hd.Status,
		Updated: hd.Updated,
		Author:  hd.Author,
		JSON:    bytes.Clone(body),
	}, nil
}
