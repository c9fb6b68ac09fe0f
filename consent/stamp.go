package consent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// lastUpdatedLayout formats meta.lastUpdated as a FHIR instant.
const lastUpdatedLayout = "2006-01-02T15:04:05.000Z07:00"

// member is one top-level key and its raw value, in document order.
type member struct {
	key   string
	value json.RawMessage
}

// stamp returns raw, compacted, with id, meta.versionId and meta.lastUpdated
// set. Top-level keys keep their order; id and meta follow resourceType when
// they were absent. raw must already have passed parse.
func stamp(raw []byte, id string, version uint64, updated time.Time) ([]byte, error) {
	ms, err := members(raw)
	if err != nil {
		return nil, err
	}
	idValue, _ := json.Marshal(id)
	metaValue, err := stampMeta(find(ms, "meta"), version, updated)
	if err != nil {
		return nil, err
	}
	ms = set(ms, "id", idValue)
	ms = set(ms, "meta", metaValue)
	return encodeMembers(ms)
}

// members reads the top-level members of a JSON object in order.
func members(raw []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var ms []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		m := member{key: fmt.Sprint(tok)}
		if err := dec.Decode(&m.value); err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// find returns the value of key, or nil.
func find(ms []member, key string) json.RawMessage {
	for _, m := range ms {
		if m.key == key {
			return m.value
		}
	}
	return nil
}

// set replaces the value of key, or inserts it after the members before it
// in FHIR's order (resourceType, id, meta).
func set(ms []member, key string, value json.RawMessage) []member {
	for i := range ms {
		if ms[i].key == key {
			ms[i].value = value
			return ms
		}
	}
	at := 0
	for at < len(ms) && (ms[at].key == "resourceType" || ms[at].key == "id") {
		at++
	}
	return append(ms[:at], append([]member{{key, value}}, ms[at:]...)...)
}

// stampMeta sets versionId and lastUpdated in a meta object, keeping the rest.
func stampMeta(meta json.RawMessage, version uint64, updated time.Time) (json.RawMessage, error) {
	fields := map[string]json.RawMessage{}
	if len(meta) > 0 && string(meta) != "null" {
		if err := json.Unmarshal(meta, &fields); err != nil {
			return nil, fmt.Errorf("reading meta: %w", err)
		}
	}
	fields["versionId"], _ = json.Marshal(strconv.FormatUint(version, 10))
	fields["lastUpdated"], _ = json.Marshal(updated.UTC().Format(lastUpdatedLayout))
	return marshalNoEscape(fields)
}

// encodeMembers writes members back as one compact JSON object.
func encodeMembers(ms []member) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, m := range ms {
		if i > 0 {
			buf.WriteByte(',')
		}
		key, _ := json.Marshal(m.key)
		buf.Write(key)
		buf.WriteByte(':')
		buf.Write(m.value)
	}
	buf.WriteByte('}')
	var out bytes.Buffer
	if err := json.Compact(&out, buf.Bytes()); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// marshalNoEscape marshals v without turning <, > and & into \u escapes, so
// narrative and URLs keep their bytes.
func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
