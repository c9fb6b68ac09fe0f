package jsonmerge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ds4p/ds4p/internal/fjson"
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
// Members keep their order and every value its bytes: only what the patch
// changes is new.
func ApplyPatch(doc, patch []byte) ([]byte, error) {
	var ops []struct {
		Op    string           `json:"op"`
		Path  *string          `json:"path"`
		Value *json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(patch, &ops); err != nil {
		return nil, patchErr("the patch is not a JSON Patch document")
	}
	root, err := parse(doc)
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
		var value *node
		switch op.Op {
		case "add", "replace":
			if op.Value == nil {
				return nil, patchErr("operation %d (%s) has no value", i, op.Op)
			}
			raw := bytes.TrimSpace(*op.Value)
			if value, err = parse(raw); err != nil {
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
	m := &merger{}
	return m.emit(nil, root), nil
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

// edited returns a copy of the container n that can be changed (its
// children shared).
func edited(n *node) *node {
	c := &node{kind: n.kind, built: true}
	c.keys = append([]string(nil), n.keys...)
	c.rawKeys = append([][]byte(nil), n.rawKeys...)
	c.kids = append([]*node(nil), n.kids...)
	return c
}

// apply performs one operation at tokens below v and returns the new v.
func apply(v *node, tokens []string, op string, value *node) (*node, error) {
	tok, last := tokens[0], len(tokens) == 1
	switch v.kind {
	case '{':
		_, i := v.get(tok)
		x := edited(v)
		if last {
			switch {
			case op == "add" && i < 0:
				x.keys, x.rawKeys, x.kids = append(x.keys, tok), append(x.rawKeys, rawKey(tok)), append(x.kids, value)
			case i < 0:
				return nil, errors.New("no such member")
			case op == "remove":
				x.keys = append(x.keys[:i], x.keys[i+1:]...)
				x.rawKeys = append(x.rawKeys[:i], x.rawKeys[i+1:]...)
				x.kids = append(x.kids[:i], x.kids[i+1:]...)
			default: // add over an existing member, replace
				x.kids[i] = value
			}
			return x, nil
		}
		if i < 0 {
			return nil, errors.New("no such member")
		}
		nv, err := apply(v.kids[i], tokens[1:], op, value)
		if err != nil {
			return nil, err
		}
		x.kids[i] = nv
		return x, nil
	case '[':
		x := edited(v)
		if last && op == "add" && tok == "-" {
			x.kids = append(x.kids, value)
			return x, nil
		}
		i, err := index(tok, len(v.kids), last && op == "add")
		if err != nil {
			return nil, err
		}
		if last {
			switch op {
			case "add":
				x.kids = append(x.kids, nil)
				copy(x.kids[i+1:], x.kids[i:])
				x.kids[i] = value
			case "replace":
				x.kids[i] = value
			case "remove":
				x.kids = append(x.kids[:i], x.kids[i+1:]...)
			}
			return x, nil
		}
		nv, err := apply(v.kids[i], tokens[1:], op, value)
		if err != nil {
			return nil, err
		}
		x.kids[i] = nv
		return x, nil
	}
	return nil, errors.New("the path goes through a value that is neither an object nor an array")
}

// rawKey is a member name as JSON string content.
func rawKey(k string) []byte {
	q := fjson.AppendString(nil, k)
	return q[1 : len(q)-1]
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
