package proxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/ds4p/ds4p/consent"
	"github.com/ds4p/ds4p/internal/fjson"
	"github.com/gin-gonic/gin"
)

// issuesOutcome renders an OperationOutcome with one error issue per problem,
// each locating its problem in expression.
func issuesOutcome(code string, problems []consent.Problem) []byte {
	b := []byte(`{"resourceType":"OperationOutcome","issue":[`)
	for i, p := range problems {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"severity":"error","code":`...)
		b = fjson.AppendString(b, code)
		b = append(b, `,"diagnostics":`...)
		b = fjson.AppendString(b, p.Message)
		if p.Path != "" {
			b = append(b, `,"expression":[`...)
			b = fjson.AppendString(b, p.Path)
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// searchBundle renders a searchset Bundle of the given consents.
func searchBundle(base string, recs []consent.Record) []byte {
	b := []byte(`{"resourceType":"Bundle","type":"searchset","total":`)
	b = strconv.AppendInt(b, int64(len(recs)), 10)
	return appendEntries(b, recs, func(b []byte, rec consent.Record) []byte {
		b = appendEntryHead(b, base, rec)
		return append(b, `,"search":{"mode":"match"}}`...)
	})
}

// historyBundle renders a history Bundle of one consent's versions, newest
// first: each entry says how the version came about and its ETag.
func historyBundle(base string, recs []consent.Record) []byte {
	b := []byte(`{"resourceType":"Bundle","type":"history","total":`)
	b = strconv.AppendInt(b, int64(len(recs)), 10)
	return appendEntries(b, recs, func(b []byte, rec consent.Record) []byte {
		b = appendEntryHead(b, base, rec)
		method, status := "PUT", "200 OK"
		if rec.Version == 1 {
			method, status = "POST", "201 Created"
		}
		b = append(b, `,"request":{"method":"`+method+`","url":`...)
		b = fjson.AppendString(b, "Consent/"+rec.ID)
		b = append(b, `},"response":{"status":"`+status+`","etag":`...)
		b = fjson.AppendString(b, `W/"`+strconv.FormatUint(rec.Version, 10)+`"`)
		b = append(b, `,"lastModified":`...)
		b = fjson.AppendString(b, rec.Updated.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
		return append(b, "}}"...)
	})
}

// appendEntries closes a Bundle, with an entry per record when there are any.
func appendEntries(b []byte, recs []consent.Record, entry func([]byte, consent.Record) []byte) []byte {
	if len(recs) > 0 {
		b = append(b, `,"entry":[`...)
		for i, rec := range recs {
			if i > 0 {
				b = append(b, ',')
			}
			b = entry(b, rec)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendEntryHead opens an entry with its fullUrl and resource.
func appendEntryHead(b []byte, base string, rec consent.Record) []byte {
	b = append(b, `{"fullUrl":`...)
	b = fjson.AppendString(b, base+"/Consent/"+rec.ID)
	b = append(b, `,"resource":`...)
	return append(b, rec.JSON...)
}

// revokeParameters is the optional body of $revoke.
type revokeParameters struct {
	ResourceType string `json:"resourceType"`
	Parameter    []struct {
		Name      string `json:"name"`
		ValueCode string `json:"valueCode"`
	} `json:"parameter"`
}

// revokeStatus reads the status a revocation sets: the query parameter
// status, or a Parameters body with a "status" valueCode; "" means inactive.
func revokeStatus(c *gin.Context) (string, error) {
	raw, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, 64<<10))
	if err != nil {
		return "", errors.New("the request body could not be read")
	}
	status := c.Query("status")
	if len(bytes.TrimSpace(raw)) == 0 {
		return status, nil
	}
	var p revokeParameters
	if err := json.Unmarshal(raw, &p); err != nil || p.ResourceType != "Parameters" {
		return "", errors.New(`the body of $revoke must be empty or a Parameters resource with a "status" valueCode`)
	}
	for _, param := range p.Parameter {
		if param.Name != "status" {
			return "", errors.New("$revoke takes only the parameter status, not " + strconv.Quote(param.Name))
		}
		if status != "" && status != param.ValueCode {
			return "", errors.New("the status parameter is given twice, with different values")
		}
		status = param.ValueCode
	}
	return status, nil
}
