package proxy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// A differential hunt for tells (QA round 35, area A): two upstream
// worlds that differ only in one SUD Condition of p1, which the caller
// (org-b, payment, no consent) may not see. Every answer the caller gets
// must be the same in both, once what differs by nature (page tokens'
// nonces, Date) is normalised.

// dwRes is one stored version of a resource of a diffWorld.
type dwRes struct {
	typ, id, ver, updated string
	body                  string // JSON without meta; meta is written from ver and updated
}

func (r dwRes) json() string {
	meta := `"meta":{"versionId":"` + r.ver + `","lastUpdated":"` + r.updated + `"}`
	return `{"resourceType":"` + r.typ + `","id":"` + r.id + `",` + meta + `,` + strings.TrimPrefix(r.body, "{")
}

// diffWorld is a small in-process FHIR server: reads, vreads, histories,
// searches by patient, subject, _id and code with _count/_offset paging,
// _summary=count, _elements, _sort, _include and _revinclude of subject,
// Patient/$everything and If-None-Match.
type diffWorld struct {
	base string
	res  []dwRes // every version, oldest first
}

func qa35aWorld(withSUD bool) *diffWorld { return qa35aWorldV(withSUD, false) }

// qa35aWorldV is qa35aWorld; with older, the SUD condition's first
// version was ordinary (an unspecified illness, recoded later).
func qa35aWorldV(withSUD, older bool) *diffWorld {
	w := &diffWorld{}
	add := func(typ, id, ver, upd, body string) {
		w.res = append(w.res, dwRes{typ, id, ver, upd, body})
	}
	add("Patient", "p1", "1", "2026-01-01T00:00:01Z", `{"name":[{"family":"Doe"}]}`)
	add("Condition", "c1", "1", "2026-01-02T00:00:00Z", `{"subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"I10"}]}}`)
	add("Observation", "o1", "1", "2026-01-03T00:00:00Z", `{"status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"weight"}}`)
	if withSUD && older {
		add("Condition", "a1", "1", "2026-01-03T12:00:00Z", `{"subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"R69"}]}}`)
	}
	if withSUD && older {
		add("Condition", "a1", "2", "2026-01-04T00:00:00Z", `{"subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`)
	} else if withSUD {
		add("Condition", "a1", "1", "2026-01-04T00:00:00Z", `{"subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"F11.20"}]}}`)
	}
	add("Observation", "o2", "1", "2026-01-05T00:00:00Z", `{"status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"height"}}`)
	add("Condition", "c2", "1", "2026-01-06T00:00:00Z", `{"subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"J45"}]}}`)
	add("Condition", "c1", "2", "2026-01-07T00:00:00Z", `{"subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"I10"}]},"note":[{"text":"v2"}]}`)
	for i := 3; i <= 14; i++ { // enough ordinary conditions to page past 9
		add("Condition", "d"+strconv.Itoa(i), "1", fmt.Sprintf("2026-02-%02dT00:00:00Z", i), `{"subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"I10"}]}}`)
	}
	return w
}

// current returns the newest version of each resource, in order of update.
func (w *diffWorld) current() []dwRes {
	last := map[string]int{}
	for i, r := range w.res {
		last[r.typ+"/"+r.id] = i
	}
	var out []dwRes
	for i, r := range w.res {
		if last[r.typ+"/"+r.id] == i {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].updated < out[j].updated })
	return out
}

func (w *diffWorld) subjectOf(r dwRes) string {
	if r.typ == "Patient" {
		return "Patient/" + r.id
	}
	var m struct{ Subject struct{ Reference string } }
	_ = json.Unmarshal([]byte(r.body), &m)
	return m.Subject.Reference
}

func (w *diffWorld) write(rw http.ResponseWriter, status int, body string) {
	rw.Header().Set("Content-Type", "application/fhir+json")
	rw.WriteHeader(status)
	_, _ = rw.Write([]byte(body))
}

func (w *diffWorld) notFound(rw http.ResponseWriter) {
	w.write(rw, 404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)
}

func (w *diffWorld) serveResource(rw http.ResponseWriter, r *http.Request, v dwRes) {
	etag := `W/"` + v.ver + `"`
	rw.Header().Set("ETag", etag)
	rw.Header().Set("Last-Modified", "Wed, 07 Jan 2026 00:00:00 GMT")
	if r.Header.Get("If-None-Match") == etag {
		rw.WriteHeader(http.StatusNotModified)
		return
	}
	w.write(rw, 200, v.json())
}

func (w *diffWorld) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, "/fhir/R4")
	seg := strings.Split(strings.Trim(p, "/"), "/")
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodPost && (len(seg) == 0 || seg[0] == ""):
		w.batch(rw, r)
	case r.Method == http.MethodPost && len(seg) == 2 && seg[1] == "_search":
		_ = r.ParseForm()
		w.search(rw, r, seg[0], r.PostForm, w.current(), "searchset")
	case len(seg) == 1 && seg[0] == "metadata":
		w.write(rw, 200, `{"resourceType":"CapabilityStatement","status":"active","kind":"instance","fhirVersion":"4.0.1","format":["json"]}`)
	case len(seg) == 1:
		w.search(rw, r, seg[0], q, w.current(), "searchset")
	case len(seg) == 2 && seg[1] == "_history":
		var vs []dwRes
		for i := len(w.res) - 1; i >= 0; i-- {
			if w.res[i].typ == seg[0] {
				vs = append(vs, w.res[i])
			}
		}
		w.search(rw, r, seg[0], url.Values{"_count": q["_count"], "_offset": q["_offset"]}, vs, "history")
	case len(seg) == 3 && seg[0] == "Patient" && seg[2] == "$everything":
		var vs []dwRes
		for _, v := range w.current() {
			if w.subjectOf(v) == "Patient/"+seg[1] {
				vs = append(vs, v)
			}
		}
		if len(vs) == 0 {
			w.notFound(rw)
			return
		}
		w.search(rw, r, "", url.Values{"_count": q["_count"], "_offset": q["_offset"]}, vs, "searchset")
	case len(seg) == 2 || len(seg) == 3 && seg[2] == "_history" || len(seg) == 4 && seg[2] == "_history":
		var found []dwRes
		for i := len(w.res) - 1; i >= 0; i-- {
			if v := w.res[i]; v.typ == seg[0] && v.id == seg[1] && (len(seg) < 4 || v.ver == seg[3]) {
				found = append(found, v)
			}
		}
		if len(found) == 0 {
			w.notFound(rw)
			return
		}
		if len(seg) == 3 {
			w.search(rw, r, "", url.Values{"_count": q["_count"], "_offset": q["_offset"]}, found, "history")
			return
		}
		w.serveResource(rw, r, found[0])
	default:
		w.notFound(rw)
	}
}

// batch answers each GET entry of a batch as the request on its own.
func (w *diffWorld) batch(rw http.ResponseWriter, r *http.Request) {
	var b struct {
		Entry []struct{ Request struct{ Method, URL string } }
	}
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		w.write(rw, 400, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid"}]}`)
		return
	}
	var es []string
	for _, e := range b.Entry {
		req := httptest.NewRequest(e.Request.Method, "/fhir/R4/"+e.Request.URL, nil)
		rec := httptest.NewRecorder()
		w.ServeHTTP(rec, req)
		st := strconv.Itoa(rec.Code)
		if rec.Code == 200 {
			es = append(es, `{"resource":`+rec.Body.String()+`,"response":{"status":"200 OK"}}`)
		} else {
			es = append(es, `{"response":{"status":"`+st+`"},"resource":`+rec.Body.String()+`}`)
		}
	}
	w.write(rw, 200, `{"resourceType":"Bundle","id":"by","type":"batch-response","entry":[`+strings.Join(es, ",")+`]}`)
}

// search answers a search of typ ("" for any) over vs.
func (w *diffWorld) search(rw http.ResponseWriter, r *http.Request, typ string, q url.Values, vs []dwRes, kind string) {
	var m []dwRes
	for _, v := range vs {
		if typ != "" && v.typ != typ {
			continue
		}
		ok := true
		for k, vals := range q {
			if len(vals) == 0 {
				continue
			}
			val := vals[0]
			switch k {
			case "patient", "subject":
				ok = ok && (w.subjectOf(v) == val || w.subjectOf(v) == "Patient/"+val)
			case "_id":
				ok = ok && slicesContains(strings.Split(val, ","), v.id)
			case "code":
				ok = ok && strings.Contains(v.body, `"code":"`+val[strings.LastIndex(val, "|")+1:]+`"`)
			}
		}
		if ok {
			m = append(m, v)
		}
	}
	switch q.Get("_sort") {
	case "-_lastUpdated":
		sort.SliceStable(m, func(i, j int) bool { return m[i].updated > m[j].updated })
	case "_id":
		sort.SliceStable(m, func(i, j int) bool { return m[i].id < m[j].id })
	case "-_id":
		sort.SliceStable(m, func(i, j int) bool { return m[i].id > m[j].id })
	}
	total := len(m)
	if q.Get("_summary") == "count" {
		w.write(rw, 200, `{"resourceType":"Bundle","id":"bx","type":"searchset","total":`+strconv.Itoa(total)+`}`)
		return
	}
	for k, vs := range q {
		if len(vs) == 0 {
			delete(q, k)
		}
	}
	count, _ := strconv.Atoi(q.Get("_count"))
	if count <= 0 {
		count = 3
	}
	off, _ := strconv.Atoi(q.Get("_offset"))
	end := min(off+count, total)
	if off > total {
		off = total
	}
	page := m[off:end]
	self := *r.URL
	self.Path = strings.TrimSuffix(self.Path, "/_search") // a POST _search's links are its GET form
	link := func(rel string, o int) string {
		qq := url.Values{}
		for k, v := range q {
			qq[k] = v
		}
		qq.Set("_offset", strconv.Itoa(o))
		u := w.base + strings.TrimPrefix(self.Path, "/fhir/R4") + "?" + qq.Encode()
		return `{"relation":"` + rel + `","url":"` + u + `"}`
	}
	links := []string{link("self", off)}
	if end < total {
		links = append(links, link("next", end))
	}
	var es []string
	for _, v := range page {
		body := v.json()
		if el := q.Get("_elements"); el != "" {
			var obj map[string]json.RawMessage
			_ = json.Unmarshal([]byte(body), &obj)
			keep := map[string]bool{"resourceType": true, "id": true, "meta": true}
			for _, k := range strings.Split(el, ",") {
				keep[k] = true
			}
			for k := range obj {
				if !keep[k] {
					delete(obj, k)
				}
			}
			b, _ := json.Marshal(obj)
			body = string(b)
		}
		e := `{"fullUrl":"` + w.base + "/" + v.typ + "/" + v.id + `","resource":` + body
		if kind == "history" {
			e += `,"request":{"method":"PUT","url":"` + v.typ + "/" + v.id + `"},"response":{"status":"200 OK","etag":"W/\"` + v.ver + `\"","lastModified":"` + v.updated + `"}}`
		} else {
			e += `,"search":{"mode":"match"}}`
		}
		es = append(es, e)
	}
	if kind != "history" {
		incl := map[string]bool{}
		if inc := q.Get("_include"); strings.HasSuffix(inc, ":subject") {
			for _, v := range page {
				if s := w.subjectOf(v); s != "" && !incl[s] && v.typ != "Patient" {
					incl[s] = true
					for _, c := range w.current() {
						if c.typ+"/"+c.id == s {
							es = append(es, `{"fullUrl":"`+w.base+"/"+s+`","resource":`+c.json()+`,"search":{"mode":"include"}}`)
						}
					}
				}
			}
		}
		if rev := q.Get("_revinclude"); strings.HasSuffix(rev, ":subject") {
			rt := strings.TrimSuffix(rev, ":subject")
			for _, v := range page {
				for _, c := range w.current() {
					if c.typ == rt && w.subjectOf(c) == v.typ+"/"+v.id {
						es = append(es, `{"fullUrl":"`+w.base+"/"+c.typ+"/"+c.id+`","resource":`+c.json()+`,"search":{"mode":"include"}}`)
					}
				}
			}
		}
	}
	body := `{"resourceType":"Bundle","id":"bx","meta":{"lastUpdated":"2026-03-01T00:00:00Z"},"type":"` + kind + `","total":` + strconv.Itoa(total) +
		`,"link":[` + strings.Join(links, ",") + `],"entry":[` + strings.Join(es, ",") + `]}`
	w.write(rw, 200, body)
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

var qa35aToken = regexp.MustCompile(`/_page/[A-Za-z0-9_-]+`)

// qa35aAnswer is what a caller sees of one answer, normalised.
type qa35aAnswer struct {
	status  int
	headers map[string]string
	body    string
	tokLens []int  // the page tokens' lengths
	raw     string // the body as sent
}

func qa35aAsk(h *harness, method, path, tok string, hdr ...string) qa35aAnswer {
	return qa35aSend(h, method, path, tok, "", "", hdr...)
}

func qa35aSend(h *harness, method, path, tok, ctype, reqBody string, hdr ...string) qa35aAnswer {
	resp, body := h.do(method, path, tok, ctype, reqBody, hdr...)
	a := qa35aAnswer{status: resp.StatusCode, headers: map[string]string{}}
	norm := func(s string) string {
		s = strings.ReplaceAll(s, h.proxy.URL, "PROXY")
		s = strings.ReplaceAll(s, h.upstream.URL, "UPSTREAM")
		return qa35aToken.ReplaceAllString(s, "/_page/T")
	}
	for k, vs := range resp.Header {
		switch k {
		case "Date", "X-Request-Id", "Traceparent":
			continue
		}
		a.headers[k] = norm(strings.Join(vs, ", "))
	}
	if a.headers["Content-Length"] == strconv.Itoa(len(body)) {
		a.headers["Content-Length"] = "len(body)"
	} else if a.headers["Content-Length"] != "" {
		a.headers["Content-Length"] += " != len(body)"
	}
	for _, m := range qa35aToken.FindAllString(body+" "+resp.Header.Get("Link")+" "+resp.Header.Get("Content-Location"), -1) {
		a.tokLens = append(a.tokLens, len(m))
	}
	a.body = norm(body)
	a.raw = body
	return a
}

const qa35aPayer = "Organization/org-b|HPAYMT|user/*.read"

// TestDifferentialTellsQA35A asks both worlds the same requests and
// follows every page link; any difference is a tell.
func TestDifferentialTellsQA35A(t *testing.T) {
	reqs := []string{
		"/fhir/Patient/p1", "/fhir/Condition/a1", "/fhir/Condition/c1", "/fhir/Condition/c1/_history/1",
		"/fhir/Condition/c1/_history", "/fhir/Condition/_history", "/fhir/Condition/_history?_count=1",
		"/fhir/Condition?patient=p1", "/fhir/Condition?subject=Patient/p1&_count=1",
		"/fhir/Condition?patient=p1&_summary=count", "/fhir/Condition?patient=p1&_total=accurate",
		"/fhir/Condition?patient=p1&_elements=code", "/fhir/Condition?patient=p1&_sort=-_lastUpdated",
		"/fhir/Condition?patient=p1&_sort=_id&_count=2", "/fhir/Condition?_id=c1,a1,c2",
		"/fhir/Condition?_id=a1", "/fhir/Condition?patient=p1&_include=Condition:subject",
		"/fhir/Patient?_id=p1&_revinclude=Condition:subject", "/fhir/Patient/p1/$everything",
		"/fhir/Patient/p1/$everything?_count=2", "/fhir/Condition?code=F11.20", "/fhir/Condition?patient=p1&_format=xml",
		"/fhir/Observation?patient=p1",
		"/fhir/Condition/a1/_history", "/fhir/Condition/a1/_history/1", "/fhir/Condition/a1/_history/2", "/fhir/Condition?patient=p1&_count=0",
		"/fhir/Condition?patient=p1&_summary=true", "/fhir/Condition?patient=p1&_summary=data&_count=4",
		"/fhir/Condition?patient=p1&_elements=subject&_count=1", "/fhir/Condition?patient=p1&_sort=-_lastUpdated&_count=4",
		"/fhir/Condition?patient=p1&_total=accurate&_count=100", "/fhir/Condition?_id=a1&_summary=count",
		"/fhir/Condition?_id=c1,a1&_total=accurate", "/fhir/Condition?patient=p1&_format=json&_pretty=true",
		"/fhir/Patient?_id=p1&_revinclude=Condition:subject&_count=1", "/fhir/Condition?patient=p1&_count=4&_include=Condition:subject",
		"/fhir/Condition/_history?_count=4", "/fhir/Patient/p1/$everything?_count=1",
		"/fhir/Condition?code=http://hl7.org/fhir/sid/icd-10-cm|F11.20&_summary=count",
	}
	var asks []qa35aReq
	for _, p := range reqs {
		asks = append(asks, qa35aReq{method: "GET", path: p})
	}
	asks = append(asks, qa35aReq{method: "HEAD", path: "/fhir/Condition/a1"}, qa35aReq{method: "HEAD", path: "/fhir/Condition?patient=p1"},
		qa35aReq{method: "GET", path: "/fhir/Condition/a1", hdr: []string{"If-None-Match", `W/"1"`}},
		qa35aReq{method: "GET", path: "/fhir/Condition/a1", hdr: []string{"If-None-Match", `W/"2"`}},
		qa35aReq{method: "GET", path: "/fhir/Condition/c1", hdr: []string{"If-None-Match", `W/"2"`}},
		qa35aReq{method: "POST", path: "/fhir/Condition/_search", ctype: "application/x-www-form-urlencoded", body: "patient=p1&_count=1"},
		qa35aReq{method: "POST", path: "/fhir", ctype: "application/fhir+json", body: `{"resourceType":"Bundle","type":"batch","entry":[` +
			`{"request":{"method":"GET","url":"Condition/a1"}},{"request":{"method":"GET","url":"Condition?patient=p1&_count=2"}},` +
			`{"request":{"method":"GET","url":"Condition?_id=a1,c2"}},{"request":{"method":"GET","url":"Patient/p1/$everything?_count=3"}}]}`})
	for _, older := range []bool{false, true} {
		worlds := [2]*harness{}
		for i := range worlds {
			w := qa35aWorldV(i == 1, older)
			worlds[i] = newHarness(t, w.ServeHTTP)
			w.base = worlds[i].base()
		}
		for _, a := range asks {
			var ans [2]qa35aAnswer
			for i, h := range worlds {
				ans[i] = qa35aSend(h, a.method, a.path, qa35aPayer, a.ctype, a.body, a.hdr...)
			}
			what := fmt.Sprintf("%s %s %s (older ordinary version: %v)", a.method, a.path, a.hdr, older)
			compareQA35A(t, what, ans)
			// follow the next links, page by page, in both worlds at once
			for depth := 0; depth < 20; depth++ {
				next := [2]string{}
				for i := range ans {
					next[i] = qa35aNext(ans[i].raw, worlds[i])
				}
				if next[0] == "" || next[1] == "" {
					break
				}
				for i, h := range worlds {
					ans[i] = qa35aAsk(h, "GET", next[i], qa35aPayer)
				}
				compareQA35A(t, fmt.Sprintf("%s page %d", what, depth+2), ans)
			}
		}
	}
}

type qa35aReq struct {
	method, path, ctype, body string
	hdr                       []string
}

// qa35aNext returns the proxy path of the body's next link, "" if none.
func qa35aNext(body string, h *harness) string {
	var b struct {
		Link []struct{ Relation, URL string }
	}
	if json.Unmarshal([]byte(body), &b) != nil {
		return ""
	}
	for _, l := range b.Link {
		if l.Relation == "next" {
			u, err := url.Parse(l.URL)
			if err != nil {
				return ""
			}
			return u.RequestURI()
		}
	}
	return ""
}

func compareQA35A(t *testing.T, what string, ans [2]qa35aAnswer) {
	t.Helper()
	if ans[0].status != ans[1].status {
		t.Errorf("%s: status %d without the SUD condition, %d with it", what, ans[0].status, ans[1].status)
	}
	if fmt.Sprint(ans[0].tokLens) != fmt.Sprint(ans[1].tokLens) {
		t.Errorf("%s: page token lengths %v without, %v with", what, ans[0].tokLens, ans[1].tokLens)
	}
	keys := map[string]bool{}
	for k := range ans[0].headers {
		keys[k] = true
	}
	for k := range ans[1].headers {
		keys[k] = true
	}
	for k := range keys {
		if v := ans[0].headers[k]; ans[1].headers[k] != v {
			t.Errorf("%s: %s %q without, %q with", what, k, v, ans[1].headers[k])
		}
	}
	if ans[0].body != ans[1].body {
		t.Errorf("%s: body\nwithout: %s\nwith:    %s", what, ans[0].body, ans[1].body)
	}
}
