package main

import "slices"

// Which top-level members of a resource a search parameter's FHIRPath
// expression reads, for one base (resource type). The proxy withholds a
// match whose cut element lies in one of them (proxy/redact.go: withholdCutMatches): the
// server decided the match on the stored element.
//
// The expression is read token by token:
//   - "Base.m" (Base the resource type, Resource or DomainResource, not
//     itself after a dot): m is read;
//   - a bare lower-case name at the root ("name | alias" of InsurancePlan):
//     a member read from the resource;
//   - a path of another type ("Condition.code" in the expression shared by
//     AllergyIntolerance and Condition) is that type's, and read by none
//     else;
//   - what is inside a function's parentheses or an indexer is relative to
//     the path the function is applied to, except "Base.m" paths, which
//     are read as above.
//
// Fail closed: no expression, the resource itself as a root, none of its paths starting at base, a
// function applied to the resource itself ("Base.where(...)", "iif(...)"),
// an environment variable (%resource, $this) at the root, a delimited
// identifier, or parentheses that do not balance: every member (nil,
// true).
func expressionMembers(expr, base string) (members []string, any bool) {
	toks, ok := tokenize(expr)
	if !ok || len(toks) == 0 {
		return nil, true
	}
	isBase := func(s string) bool { return s == base || s == "Resource" || s == "DomainResource" }
	var stack []bool // for each open paren or bracket: true when it calls a function or indexes
	relative := func() bool { return slices.Contains(stack, true) }
	seen := map[string]bool{}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		prevDot := i > 0 && toks[i-1] == "."
		next := ""
		if i+1 < len(toks) {
			next = toks[i+1]
		}
		switch {
		case t == "(":
			stack = append(stack, i > 0 && isIdent(toks[i-1]))
			continue
		case t == "[":
			stack = append(stack, true)
			continue
		case t == ")" || t == "]":
			if len(stack) == 0 {
				return nil, true
			}
			stack = stack[:len(stack)-1]
			continue
		case t == "%" || t == "$" || t == "`":
			if !relative() {
				return nil, true
			}
			continue
		case !isIdent(t) || prevDot:
			continue
		}
		// An identifier not after a dot.
		if isBase(t) && next == "." {
			if i+2 >= len(toks) || !isIdent(toks[i+2]) {
				return nil, true
			}
			m := toks[i+2]
			if i+3 < len(toks) && toks[i+3] == "(" {
				return nil, true // a function of the resource itself
			}
			seen[m] = true
			i += 2
			continue
		}
		if isBase(t) && !relative() && (i == 0 || !keywords[toks[i-1]]) {
			return nil, true // the resource itself (a composite's "Observation | Observation.component")
		}
		if relative() || keywords[t] || t[0] >= 'A' && t[0] <= 'Z' {
			continue // relative, an operator, or a type (another base's path, or after is/as)
		}
		if next == "(" {
			return nil, true // a function at the root
		}
		seen[t] = true
	}
	if len(stack) != 0 || len(seen) == 0 {
		return nil, true
	}
	for m := range seen {
		members = append(members, m)
	}
	slices.Sort(members)
	return members, false
}

// keywords are FHIRPath's operators and literals spelled as names.
var keywords = map[string]bool{
	"and": true, "or": true, "xor": true, "implies": true, "is": true, "as": true,
	"in": true, "contains": true, "div": true, "mod": true, "true": true, "false": true,
}

func isIdent(t string) bool {
	if t == "" {
		return false
	}
	c := t[0]
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// tokenize splits a FHIRPath expression into names, numbers and single
// punctuation characters, dropping string literals and white space. A
// string that does not end fails.
func tokenize(s string) ([]string, bool) {
	var out []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'':
			j := i + 1
			for ; j < len(s) && s[j] != '\''; j++ {
				if s[j] == '\\' {
					j++
				}
			}
			if j >= len(s) {
				return nil, false
			}
			out = append(out, "''")
			i = j + 1
		case isIdent(s[i:i+1]) || c >= '0' && c <= '9':
			j := i + 1
			for j < len(s) && (isIdent(s[j:j+1]) || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			out = append(out, s[i:j])
			i = j
		default:
			out = append(out, s[i:i+1])
			i++
		}
	}
	return out, true
}
