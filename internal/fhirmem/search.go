package fhirmem

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// param is one applied search parameter, kept for the paging links.
type param struct{ name, value string }

// query is a parsed search.
type query struct {
	ids       [][]string // each occurrence is an OR list; occurrences AND
	patients  [][]string // patient ids from patient/subject, same shape
	include   bool       // whether to include the matches' patients
	count     int
	offset    int
	countOnly bool
	applied   []param // the parameters used, in canonical order
}

// parseQuery reads the search parameters of a request for typ. Unknown or
// unsupported parameters are ignored unless the client asked for strict
// handling, in which case they are an error.
func parseQuery(r *http.Request, typ string) (query, response, bool) {
	if err := r.ParseForm(); err != nil {
		return query{}, badRequest("parsing parameters: " + err.Error()), false
	}
	strict := strings.Contains(strings.ToLower(r.Header.Get("Prefer")), "handling=strict")
	q := query{count: DefaultCount}
	var unsupported []string
	for name := range r.Form {
		if !q.known(typ, name) {
			unsupported = append(unsupported, name)
		}
	}
	unsupported = append(unsupported, q.filters(r.Form, typ)...)
	if resp, ok := q.paging(r.Form); !ok {
		return query{}, resp, false
	}
	if strict && len(unsupported) > 0 {
		slices.Sort(unsupported)
		return query{}, badRequest("unsupported search parameters: " + strings.Join(unsupported, ", ")), false
	}
	return q, response{}, true
}

// known reports whether a parameter name is understood for typ.
func (q *query) known(typ, name string) bool {
	switch name {
	case "_id", "_include", "_summary", "_count", "_offset", "_format":
		return true
	case "patient", "subject":
		return typ != "Patient"
	}
	return false
}

// filters reads _id, patient, subject, _include and _summary in canonical
// order and returns the values it could not support.
func (q *query) filters(form url.Values, typ string) []string {
	q.references(form, typ)
	return append(q.includes(form["_include"], typ), q.summary(form["_summary"])...)
}

// references reads _id and, except on Patient, patient and subject.
func (q *query) references(form url.Values, typ string) {
	for _, v := range form["_id"] {
		if v != "" {
			q.ids = append(q.ids, strings.Split(v, ","))
			q.applied = append(q.applied, param{"_id", v})
		}
	}
	if typ == "Patient" {
		return
	}
	for _, name := range []string{"patient", "subject"} {
		for _, v := range form[name] {
			if v != "" {
				q.patients = append(q.patients, patientIDs(v))
				q.applied = append(q.applied, param{name, v})
			}
		}
	}
}

// includes reads _include; only Type:patient and Type:subject are supported.
func (q *query) includes(values []string, typ string) []string {
	var unsupported []string
	for _, v := range values {
		if typ != "Patient" && (v == typ+":patient" || v == typ+":subject") {
			q.include = true
			q.applied = append(q.applied, param{"_include", v})
			continue
		}
		unsupported = append(unsupported, "_include="+v)
	}
	return unsupported
}

// summary reads _summary; only count (and false, the default) is supported.
func (q *query) summary(values []string) []string {
	var unsupported []string
	for _, v := range values {
		switch v {
		case "count":
			q.countOnly = true
			q.applied = append(q.applied, param{"_summary", v})
		case "false":
		default:
			unsupported = append(unsupported, "_summary="+v)
		}
	}
	return unsupported
}

// paging reads _count and _offset.
func (q *query) paging(form url.Values) (response, bool) {
	for _, p := range []struct {
		name string
		dst  *int
	}{{"_count", &q.count}, {"_offset", &q.offset}} {
		v := form.Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return badRequest(p.name + " must be a non-negative integer, not " + strconv.Quote(v)), false
		}
		*p.dst = n
	}
	return response{}, true
}

// patientIDs turns "Patient/x,y" into patient ids; a reference to anything
// but a Patient yields "", which matches nothing.
func patientIDs(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		switch {
		case strings.Contains(s, "/"):
			out = append(out, patientID(s))
		case idPattern.MatchString(s):
			out = append(out, s)
		default:
			out = append(out, "")
		}
	}
	return out
}

// match is a resource found by a search.
type match struct {
	typ, id, patient string
	body             []byte
}

// result is a page of matches and the patients they include.
type result struct {
	total    int
	page     []match
	included []match
}

// search answers GET Type?… and POST Type/_search.
func (s *Server) search(r *http.Request, typ string) response {
	q, resp, ok := parseQuery(r, typ)
	if !ok {
		return resp
	}
	s.mu.RLock()
	res := s.store.find(typ, q)
	s.mu.RUnlock()
	return searchset(s.urls(r), typ, q, res)
}

// everything answers GET Patient/id/$everything: the Patient, then every
// resource in its compartment, paged like a search.
func (s *Server) everything(r *http.Request, id string) response {
	q, resp, ok := parseQuery(r, "Patient")
	if !ok {
		return resp
	}
	q.applied, q.countOnly = nil, false
	s.mu.RLock()
	res, found := s.store.compartment(id, q)
	s.mu.RUnlock()
	if !found {
		return notFound("resource Patient/" + id + " is not known")
	}
	return searchset(s.urls(r), "Patient/"+id+"/$everything", q, res)
}

// searchset encodes a search result as a searchset Bundle with paging
// links below path.
func searchset(u urls, path string, q query, res result) response {
	b := bundle{kind: "searchset", total: res.total}
	count := q.count
	if q.countOnly {
		count = 0
	}
	b.links = pageLinks(u.path(path), q.applied, count, q.offset, res.total)
	for _, m := range res.page {
		b.entries = append(b.entries, entry{fullURL: u.resource(m.typ, m.id), resource: m.body, mode: "match"})
	}
	for _, m := range res.included {
		b.entries = append(b.entries, entry{fullURL: u.resource(m.typ, m.id), resource: m.body, mode: "include"})
	}
	return jsonResponse(http.StatusOK, b.encode())
}

// pageLinks returns the self, next and previous links of a page.
func pageLinks(base string, applied []param, count, offset, total int) []link {
	links := []link{{"self", pageURL(base, applied, count, offset)}}
	if count > 0 && offset+count < total {
		links = append(links, link{"next", pageURL(base, applied, count, offset+count)})
	}
	if count > 0 && offset > 0 {
		links = append(links, link{"previous", pageURL(base, applied, count, max(0, offset-count))})
	}
	return links
}

func pageURL(base string, applied []param, count, offset int) string {
	var b strings.Builder
	b.WriteString(base)
	for i, p := range applied {
		b.WriteByte("?&"[min(i, 1)])
		b.WriteString(escape(p.name) + "=" + escape(p.value))
	}
	b.WriteByte("?&"[min(len(applied), 1)])
	b.WriteString("_count=" + strconv.Itoa(count))
	if offset > 0 {
		b.WriteString("&_offset=" + strconv.Itoa(offset))
	}
	return b.String()
}

// escape query-escapes s but keeps ':', '/' and ',' readable, which RFC 3986
// allows in a query.
var unescaper = strings.NewReplacer("%3A", ":", "%2F", "/", "%2C", ",")

func escape(s string) string { return unescaper.Replace(url.QueryEscape(s)) }

// find runs a type-level search.
func (st *store) find(typ string, q query) result {
	var keys []string
	if len(q.patients) > 0 {
		for _, pid := range q.patients[0] {
			for _, k := range st.byPatient[pid] {
				if strings.HasPrefix(k, typ+"/") && !slices.Contains(keys, k) {
					keys = append(keys, k)
				}
			}
		}
	} else {
		for _, id := range st.byType[typ] {
			keys = append(keys, typ+"/"+id)
		}
	}
	var all []*record
	for _, k := range keys {
		if rec := st.records[k]; q.accepts(rec) {
			all = append(all, rec)
		}
	}
	return st.paginate(all, q)
}

// accepts reports whether a record passes every _id and patient filter.
func (q query) accepts(rec *record) bool {
	for _, ids := range q.ids {
		if !slices.Contains(ids, rec.id) {
			return false
		}
	}
	for _, pids := range q.patients {
		if rec.patient == "" || !slices.Contains(pids, rec.patient) {
			return false
		}
	}
	return true
}

// compartment returns the Patient and the resources in its compartment.
func (st *store) compartment(id string, q query) (result, bool) {
	p, ok := st.records["Patient/"+id]
	if !ok {
		return result{}, false
	}
	all := []*record{p}
	for _, k := range st.byPatient[id] {
		all = append(all, st.records[k])
	}
	return st.paginate(all, q), true
}

// paginate cuts a page out of all and resolves the page's includes.
func (st *store) paginate(all []*record, q query) result {
	res := result{total: len(all)}
	if q.countOnly {
		return res
	}
	lo := min(q.offset, len(all))
	hi := min(lo+q.count, len(all))
	seen := map[string]bool{}
	for _, rec := range all[lo:hi] {
		res.page = append(res.page, match{rec.typ, rec.id, rec.patient, rec.current()})
		seen[rec.key()] = true
	}
	if !q.include {
		return res
	}
	for _, m := range res.page {
		p, ok := st.records["Patient/"+m.patient]
		if ok && !seen[p.key()] {
			seen[p.key()] = true
			res.included = append(res.included, match{p.typ, p.id, p.id, p.current()})
		}
	}
	return res
}
