package proxy

import (
	"encoding/json"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// currentReads answers a GET of Type/id that resources names with its body,
// the resource's current version ("" for a deleted one: 410), as a FHIR
// server would, and hands every other request to next. A type or system
// history reads the current version of each resource it discloses
// (withholdVersionsOfWithheld).
func currentReads(next http.HandlerFunc, resources map[string]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, ok := resources[strings.TrimPrefix(r.URL.Path, "/fhir/R4/")]
		switch {
		case !ok || r.Method != http.MethodGet:
			next(w, r)
		case body == "":
			fhirJSONHandler(http.StatusGone, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"deleted"}]}`)(w, r)
		default:
			fhirJSONHandler(http.StatusOK, body)(w, r)
		}
	}
}

// currentOf maps each resource to its Type/id, for currentReads.
func currentOf(resources ...string) map[string]string {
	out := map[string]string{}
	for _, res := range resources {
		var r struct{ ResourceType, ID string }
		if err := json.Unmarshal([]byte(res), &r); err != nil || r.ResourceType == "" || r.ID == "" {
			panic("currentOf: not a resource with an id: " + res)
		}
		out[r.ResourceType+"/"+r.ID] = res
	}
	return out
}

// TestTypeHistoryPageOfAnOlderVersionAlone: a page of a type or system
// history holding only an older ordinary version of a resource whose
// current version the caller may not read (the current one on the page
// before, or past _since) withholds it, as the resource's vread does: it
// showed that a resource which reads as missing exists. The caller who may
// read the current version keeps it; a deleted resource keeps its older
// versions, as its history does; a resource whose current version reads
// as missing goes too; a read that fails withholds the whole page.
func TestTypeHistoryPageOfAnOlderVersionAlone(t *testing.T) {
	t.Parallel()
	old := strings.Replace(strings.Replace(sudCondition, `"F11.20","display":"Opioid dependence"`, `"M54.5","display":"Low back pain"`, 1), `"versionId":"3"`, `"versionId":"1"`, 1)
	gone := strings.ReplaceAll(strings.ReplaceAll(old, `"sud1"`, `"gone1"`), "Low back pain", "Sprain")
	page := `{"resourceType":"Bundle","type":"history","entry":[
	 {"resource":` + old + `,"request":{"method":"POST","url":"Condition"}},
	 {"resource":` + gone + `,"request":{"method":"POST","url":"Condition"}},
	 {"resource":` + bpObs + `,"request":{"method":"PUT","url":"Observation/bp1"}}]}`
	current := map[string]string{"Condition/sud1": sudCondition, "Condition/gone1": "", "Observation/bp1": bpObs}
	up := newRouted(map[string]string{})
	h := newHarness(t, currentReads(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/_history") {
			fhirJSONHandler(200, page)(w, r)
			return
		}
		up.handle(w, r)
	}, current))
	for _, path := range []string{"/fhir/Condition/_history", "/fhir/_history"} {
		resp, body := h.get(path, tokOther)
		if resp.StatusCode != 200 || strings.Contains(body, "sud1") || strings.Contains(body, "Low back pain") || !strings.Contains(body, "gone1") || !strings.Contains(body, "bp1") {
			t.Errorf("%s, a caller who may not read sud1: %d %s", path, resp.StatusCode, body)
		}
		resp, body = h.get(path, tokConsented)
		if resp.StatusCode != 200 || !strings.Contains(body, "Low back pain") || !strings.Contains(body, "gone1") || !strings.Contains(body, "bp1") {
			t.Errorf("%s, a caller who may read sud1: %d %s", path, resp.StatusCode, body)
		}
	}
	if n := len(h.ledger.entries); n == 0 || len(h.ledger.entries[0].Withheld) != 1 {
		t.Errorf("ledger: %+v", h.ledger.entries)
	}

	// Its current version missing (expunged, or never there): withheld.
	delete(current, "Condition/sud1")
	if resp, body := h.get("/fhir/Condition/_history", tokConsented); resp.StatusCode != 200 || strings.Contains(body, "sud1") || !strings.Contains(body, "bp1") {
		t.Errorf("current version missing: %d %s", resp.StatusCode, body)
	}
	// A read that fails: the page is withheld, never sent as it came.
	up.status["Condition/sud1"] = http.StatusInternalServerError
	if resp, body := h.get("/fhir/Condition/_history", tokConsented); resp.StatusCode < 500 || strings.Contains(body, "bp1") || strings.Contains(body, "sud1") {
		t.Errorf("current version's read failed: %d %s", resp.StatusCode, body)
	}
}

// TestTypeHistoryCurrentVersionOnAnotherPage: with _count=1 the current,
// withheld version of a Condition is on the first page and its older
// ordinary version on the second; the pages answer as on a server that
// never held the Condition (the ids aside, nothing of it is listed).
func TestTypeHistoryCurrentVersionOnAnotherPage(t *testing.T) {
	t.Parallel()
	old := strings.Replace(strings.Replace(sudCondition, `"F11.20","display":"Opioid dependence"`, `"M54.5","display":"Low back pain"`, 1), `"versionId":"3"`, `"versionId":"1"`, 1)
	serve := func(h **harness, entries []string, current map[string]string) http.HandlerFunc {
		return currentReads(func(w http.ResponseWriter, r *http.Request) {
			offset, _ := strconv.Atoi(r.URL.Query().Get("_offset"))
			links := `{"relation":"self","url":"` + (*h).base() + `/Condition/_history?_offset=` + strconv.Itoa(offset) + `"}`
			if offset+1 < len(entries) {
				links += `,{"relation":"next","url":"` + (*h).base() + `/Condition/_history?_offset=` + strconv.Itoa(offset+1) + `"}`
			}
			var e []string
			if offset < len(entries) {
				e = entries[offset : offset+1]
			}
			fhirJSONHandler(200, `{"resourceType":"Bundle","type":"history","link":[`+links+`],"entry":[`+strings.Join(e, ",")+`]}`)(w, r)
		}, current)
	}
	entry := func(res string) string {
		return `{"resource":` + res + `,"request":{"method":"PUT","url":"Condition"},"response":{"status":"200 OK"}}`
	}
	ok := []string{refillCond("c0", false), refillCond("c1", false)}
	all := []string{entry(ok[0]), entry(sudCondition), entry(old), entry(ok[1])}
	visible := []string{entry(ok[0]), entry(ok[1])}
	var h, hv *harness
	h = newHarness(t, serve(&h, all, currentOf(sudCondition, ok[0], ok[1])))
	hv = newHarness(t, serve(&hv, visible, currentOf(ok[0], ok[1])))
	got := pagesOf(t, h, "/fhir/Condition/_history", tokOther)
	want := pagesOf(t, hv, "/fhir/Condition/_history", tokOther)
	if len(got) != len(want) {
		t.Fatalf("pages %v, want %v", got, want)
	}
	for i := range got {
		if strings.Join(got[i], ",") != strings.Join(want[i], ",") {
			t.Fatalf("pages %v, want %v", got, want)
		}
	}
}

// TestTypeHistoryCurrentVersionsBySearch: the current versions of a
// history page's resources are asked for by one Condition?_id= search, not
// a read each (a client syncing by history doubled its requests); the one
// the search does not list (deleted) is read on its own and keeps its
// versions, the withheld one the search lists takes its older version with
// it. A server that refuses the search leaves it to the reads, with the
// same answer.
func TestTypeHistoryCurrentVersionsBySearch(t *testing.T) {
	t.Parallel()
	old := strings.Replace(strings.Replace(sudCondition, `"F11.20","display":"Opioid dependence"`, `"M54.5","display":"Low back pain"`, 1), `"versionId":"3"`, `"versionId":"1"`, 1)
	ok := []string{refillCond("c0", false), refillCond("c1", false)}
	gone := strings.ReplaceAll(ok[1], `"c1"`, `"gone1"`)
	entry := func(res string) string {
		return `{"resource":` + res + `,"request":{"method":"PUT","url":"Condition"},"response":{"status":"200 OK"}}`
	}
	page := `{"resourceType":"Bundle","type":"history","entry":[` + entry(ok[0]) + `,` + entry(old) + `,` + entry(gone) + `,` + entry(ok[1]) + `,` + entry(bpObs) + `]}`
	current := map[string]string{"Condition/c0": ok[0], "Condition/c1": ok[1], "Condition/sud1": sudCondition, "Condition/gone1": "", "Observation/bp1": bpObs}
	for _, refuse := range []bool{false, true} {
		var mu sync.Mutex
		searches, reads := 0, map[string]int{}
		h := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
			p := strings.TrimPrefix(r.URL.Path, "/fhir/R4/")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case strings.HasSuffix(p, "_history"):
				fhirJSONHandler(200, page)(w, r)
			case p == "Condition" && r.URL.Query().Get("_id") != "":
				searches++
				if refuse {
					fhirJSONHandler(400, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-supported"}]}`)(w, r)
					return
				}
				var entries []string
				for _, id := range strings.Split(r.URL.Query().Get("_id"), ",") {
					if body := current["Condition/"+id]; body != "" {
						entries = append(entries, `{"resource":`+body+`,"search":{"mode":"match"}}`)
					}
				}
				fhirJSONHandler(200, `{"resourceType":"Bundle","type":"searchset","entry":[`+strings.Join(entries, ",")+`]}`)(w, r)
			default:
				reads[p]++
				body, known := current[p]
				switch {
				case !known:
					fhirJSONHandler(404, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`)(w, r)
				case body == "":
					fhirJSONHandler(410, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"deleted"}]}`)(w, r)
				default:
					fhirJSONHandler(200, body)(w, r)
				}
			}
		})
		resp, body := h.get("/fhir/_history", tokOther)
		if resp.StatusCode != 200 || strings.Contains(body, "sud1") || strings.Contains(body, "Low back pain") ||
			!strings.Contains(body, `"c0"`) || !strings.Contains(body, `"c1"`) || !strings.Contains(body, "gone1") || !strings.Contains(body, "bp1") {
			t.Errorf("refused %v: %d %s", refuse, resp.StatusCode, body)
		}
		mu.Lock()
		wantReads := map[string]int{"Condition/gone1": 1, "Observation/bp1": 1}
		if refuse {
			wantReads = map[string]int{"Condition/c0": 1, "Condition/c1": 1, "Condition/sud1": 1, "Condition/gone1": 1, "Observation/bp1": 1}
		}
		if searches != 1 || !maps.Equal(reads, wantReads) {
			t.Errorf("refused %v: %d searches, reads %v, want 1 and %v", refuse, searches, reads, wantReads)
		}
		mu.Unlock()
	}
}

// TestTypeHistoryTotalLeavesOutAnOlderVersionAlone: the total of a
// complete history page is lowered by an older version withheld for its
// current one, as by any withheld match: "total": 3 beside two entries
// would tell one was withheld.
func TestTypeHistoryTotalLeavesOutAnOlderVersionAlone(t *testing.T) {
	t.Parallel()
	old := strings.Replace(strings.Replace(sudCondition, `"F11.20","display":"Opioid dependence"`, `"M54.5","display":"Low back pain"`, 1), `"versionId":"3"`, `"versionId":"1"`, 1)
	ok := refillCond("c0", false)
	page := `{"resourceType":"Bundle","type":"history","total":3,"entry":[{"resource":` + old + `,"request":{"method":"POST","url":"Condition"}},` +
		`{"resource":` + ok + `,"request":{"method":"POST","url":"Condition"}},{"resource":` + bpObs + `,"request":{"method":"PUT","url":"Observation/bp1"}}]}`
	h := newHarness(t, currentReads(fhirJSONHandler(200, page), currentOf(sudCondition, ok, bpObs)))
	resp, body := h.get("/fhir/_history", tokOther)
	if resp.StatusCode != 200 || strings.Contains(body, "sud1") || !strings.Contains(body, `"total":2`) {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
}
