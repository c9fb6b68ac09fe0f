package consent

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// keyScan walks a JSON document token by token and reports, with their paths,
// every duplicated object key anywhere, every unknown top-level key, and every
// key inside provision that the R4 model (the json tags of provisionJSON and
// the types it holds) does not define. It runs before decoding because
// encoding/json keeps the last of duplicated keys and names only the first
// unknown field, without its location.
type keyScan struct {
	dec  *json.Decoder
	errs *problems
	// top are the allowed top-level keys, prov the model of provision and
	// release the FHIR release named in messages.
	top     map[string]bool
	prov    reflect.Type
	release string
}

// scanKeys checks the keys of raw, an R4 Consent, which must already be
// valid JSON.
func scanKeys(raw []byte, errs *problems) {
	s := keyScan{dec: json.NewDecoder(bytes.NewReader(raw)), errs: errs,
		top: topLevelKeys, prov: reflect.TypeFor[provisionJSON](), release: "R4"}
	s.value("Consent", nil, true)
}

// scanKeysR5 checks the keys of raw as an R5 Consent.
func scanKeysR5(raw []byte, errs *problems) {
	s := keyScan{dec: json.NewDecoder(bytes.NewReader(raw)), errs: errs,
		top: r5TopLevelKeys, prov: reflect.TypeFor[r5Provision](), release: "R5"}
	s.value("Consent", nil, true)
}

// value walks one value at path. A nil model means any keys are allowed.
func (s keyScan) value(path string, model reflect.Type, top bool) {
	tok, err := s.dec.Token()
	if err != nil {
		return
	}
	switch tok {
	case json.Delim('{'):
		s.object(path, model, top)
	case json.Delim('['):
		s.array(path, model)
	}
}

// array walks the elements of an array; each has the array's model.
func (s keyScan) array(path string, model reflect.Type) {
	for i := 0; s.dec.More(); i++ {
		s.value(path+"["+strconv.Itoa(i)+"]", model, false)
	}
	_, _ = s.dec.Token() // ']'
}

// object walks the members of an object, checking each key.
func (s keyScan) object(path string, model reflect.Type, top bool) {
	seen := make(map[string]bool)
	for s.dec.More() {
		tok, err := s.dec.Token()
		if err != nil {
			return
		}
		key, _ := tok.(string)
		if seen[key] {
			s.errs.add(path+"."+key, "duplicate key")
		}
		seen[key] = true
		s.value(path+"."+key, s.child(path, key, model, top), false)
	}
	_, _ = s.dec.Token() // '}'
}

// child returns the model of the value under key, reporting unknown keys.
func (s keyScan) child(path, key string, model reflect.Type, top bool) reflect.Type {
	if top {
		if !s.top[key] {
			s.errs.add(path+"."+key, "unknown element %q in an %s Consent", key, s.release)
		}
		if key == "provision" {
			return s.prov
		}
		return nil
	}
	if model == nil {
		return nil
	}
	field, ok := jsonFields(model)[key]
	if !ok {
		s.errs.add(path+"."+key, "unknown element %q (a misspelt field would change what the consent allows)", key)
	}
	return field
}

// fieldCache memoises jsonFields per struct type.
var fieldCache sync.Map // reflect.Type → map[string]reflect.Type

// jsonFields maps the json names of a struct's fields to the struct type each
// holds (through pointers and slices), or to nil for scalars and raw JSON.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := make(map[string]reflect.Type, t.NumField())
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		m[name] = structOf(f.Type)
	}
	fieldCache.Store(t, m)
	return m
}

// structOf returns the struct type under pointers and slices, or nil when
// there is none or it is raw JSON.
func structOf(t reflect.Type) reflect.Type {
	if t == reflect.TypeFor[json.RawMessage]() {
		return nil
	}
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	return t
}
