package console

import (
	"net/http"
	"regexp"
)

// alertID is the id of a security alert (proxy.Alert.ID, e.g.
// bulk-0123456789abcdef); it goes into the /admin path, so nothing else is
// let through.
var alertID = regexp.MustCompile(`^[A-Za-z0-9_\-.]{1,64}$`)

// alertList relays the bulk-access alerts (GET /admin/alerts): the open
// ones, or with {"all": true} the cleared ones too. Alerts name callers,
// never patients.
func (h *Handler) alertList(w http.ResponseWriter, r *http.Request, s *session, body []byte) {
	var in struct{ All bool }
	if !decodeBody(w, body, &in) {
		return
	}
	status := "open"
	if in.All {
		status = "all"
	}
	h.admin(w, r, s, http.MethodGet, "/admin/alerts", values("status", status), nil)
}

// alertClear relays POST /admin/alerts/{id}/clear for {"id": "..."}: the
// alert is closed in the signed-in auditor's name and its caller, if it
// was blocked, is let through again.
func (h *Handler) alertClear(w http.ResponseWriter, r *http.Request, s *session, body []byte) {
	var in struct{ ID string }
	if !decodeBody(w, body, &in) {
		return
	}
	if !alertID.MatchString(in.ID) || in.ID == "." || in.ID == ".." {
		writeError(w, http.StatusBadRequest, "id must be an alert id, e.g. bulk-0123456789abcdef")
		return
	}
	h.admin(w, r, s, http.MethodPost, "/admin/alerts/"+in.ID+"/clear", nil, nil)
}
