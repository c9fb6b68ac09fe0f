package jsonmerge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// PatchError is a JSON Patch that cannot be applied to the document: the
// caller's own mistake (a path that is not there, an operation not
// supported), said in terms of its patch.
type PatchError struct{ Msg string }

func (e *PatchError) Error() string { return e.Msg }

func patchErr(format string, a ...any) error { return &PatchError{Msg: fmt.Sprintf(format, a...)} }

// ApplyPatch applies a JSON Patch (RFC 6902) of add, remove and replace
// operations to doc, a JSON object, and returns the result. test, move and
// copy are refused (the proxy refuses them before; see writeguard.go).
// Numbers keep their text.
func ApplyPatch(doc, patch []byte) ([]byte, error) {
	var ops []struct {
		Op    string           `json:"op"`
		Path  *string          `json:"path"`
		Value *json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(patch, &ops); err != nil {
		return nil, patchErr("the patch is not a JSON Patch document")
	}
	root, err := decode(doc)
	if err != nil {
		return nil, err
	}
	for i, op := range ops {
		if op.Path == nil {
			return nil, patchErr("operation %d has no path", i)
		}
		tokens, err := pointer(*op.Path)
		if err != nil {
			return nil, patchErr("operation %d: %v", i, err)
		}
		if len(tokens) == 0 {
			return nil, patchErr("operation %d: the whole resource cannot be %sd", i, op.Op)
		}
		var value any
		switch op.Op {
		case "add", "replace":
			if op.Value == nil {
				return nil, patchErr("operation %d (%s) has no value", i, op.Op)
			}
			if value, err = decode(*op.Value); err != nil {
				return nil, patchErr("operation %d: the value is not JSON", i)
			}
		case "remove":
		default:
			return nil, patchErr("operation %d: %q is not supported here", i, op.Op)
		}
		if root, err = apply(root, tokens, op.Op, value); err != nil {
			return nil, patchErr("operation %d (%s %s): %v", i, op.Op, *op.Path, err)
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func decode(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// pointer splits a JSON Pointer (RFC 6901) into its reference tokens.
func pointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if p[0] != '/' {
		return nil, errors.New("a path must start with /")
	}
	parts := strings.Split(p[1:], "/")
	for i, s := range parts {
		if strings.Contains(strings.ReplaceAll(strings.ReplaceAll(s, "~0", ""), "~1", ""), "~") {
			return nil, errors.New("a path has an invalid ~ escape")
		}
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return parts, nil
}

// apply performs one operation at tokens below v and returns the new v.
func apply(v any, tokens []string, op string, value any) (any, error) {
	tok, last := tokens[0], len(tokens) == 1
	switch x := v.(type) {
	case map[string]any:
		if last {
			_, ok := x[tok]
			switch op {
			case "add":
				x[tok] = value
			case "replace":
				if !ok {
					return nil, errors.New("no such member")
				}
				x[tok] = value
			case "remove":
				if !ok {
					return nil, errors.New("no such member")
				}
				delete(x, tok)
			}
			return x, nil
		}
		child, ok := x[tok]
		if !ok {
			return nil, errors.New("no such member")
		}
		nv, err := apply(child, tokens[1:], op, value)
		if err != nil {
			return nil, err
		}
		x[tok] = nv
		return x, nil
	case []any:
		if last && op == "add" && tok == "-" {
			return append(x, value), nil
		}
		i, err := index(tok, len(x), last && op == "add")
		if err != nil {
			return nil, err
		}
		if last {
			switch op {
			case "add":
				x = append(x, nil)
				copy(x[i+1:], x[i:])
				x[i] = value
			case "replace":
				x[i] = value
			case "remove":
				x = append(x[:i], x[i+1:]...)
			}
			return x, nil
		}
		nv, err := apply(x[i], tokens[1:], op, value)
		if err != nil {
			return nil, err
		}
		x[i] = nv
		return x, nil
	}
	return nil, errors.New("the path goes through a value that is neither an object nor an array")
}

// index reads an array index token: 0..n-1, or n too when adding.
func index(tok string, n int, adding bool) (int, error) {
	if tok == "" || len(tok) > 1 && tok[0] == '0' {
		return 0, errors.New("not an array index")
	}
	i, err := strconv.Atoi(tok)
	if err != nil || i < 0 {
		return 0, errors.New("not an array index")
	}
	if i > n || i == n && !adding {
		return 0, errors.New("no such array element")
	}
	return i, nil
}
