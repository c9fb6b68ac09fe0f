package siem

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/audit"
)

// TestHashCoversThePatientsOwnAccess (QA17 F6): under patient_ids hash or
// omit, the record of a patient's own access named the patient through the
// caller (their subject "Patient/p1", or a portal login beside
// patient_user), and a break-the-glass reason (free text, may hold a name
// or an MRN) went as is. A clinician's subject is kept: it is no patient.
func TestHashCoversThePatientsOwnAccess(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte{1}, 32)
	own := audit.Entry{Seq: 7, RequestID: "r1", Caller: audit.Party{Subject: "Patient/p1", Client: "portal-app"},
		Patient: "Patient/p1", Interaction: "read", Query: "Patient/p1",
		Disclosed: []audit.Item{{Type: "Patient", ID: "p1", Version: "1"}}}
	portal := own
	portal.Caller = audit.Party{Subject: "jsmith@portal.example", Client: "portal-app", Name: "John Smith", Address: "1 Elm St", PatientUser: true}
	glass := entry(8, "Patient/p1")
	glass.BreakGlass = &audit.BreakGlass{Reason: "unconscious pt John Smith MRN 4711, overdose", Recipient: "Practitioner/dr1", Affiliation: "Organization/o", DisclosedBy: "ds4p proxy"}
	for _, mode := range []string{PatientIDsHash, PatientIDsOmit} {
		m := masker{mode: mode, key: key}
		for _, e := range []audit.Entry{own, portal, glass} {
			r, err := m.ledgerRecord(e)
			if err != nil {
				t.Fatal(err)
			}
			line := string(r.JSON)
			for _, phi := range []string{`"Patient/p1"`, "jsmith", "John Smith", "4711", "Elm St", "overdose"} {
				if strings.Contains(line, phi) {
					t.Errorf("%s: the record carries %s: %s", mode, phi, line)
				}
			}
			var got ledgerLine
			if err := json.Unmarshal(r.JSON, &got); err != nil {
				t.Fatal(err)
			}
			c := got.Entry.Caller
			switch {
			case e.Caller.Subject == "Practitioner/dr1":
				if c.Subject != "Practitioner/dr1" || got.Entry.BreakGlass.Recipient != "Practitioner/dr1" || got.Entry.BreakGlass.Affiliation != "Organization/o" {
					t.Errorf("%s: a clinician's subject and the break-glass recipient are kept: %s", mode, line)
				}
			case mode == PatientIDsHash:
				if c.Subject != m.hash(e.Caller.Subject) || c.Client != "portal-app" {
					t.Errorf("hash: the patient's subject is hashed, the client kept: %s", line)
				}
			default:
				if c.Subject != "" || c.Name != "" || c.Client != "portal-app" {
					t.Errorf("omit: the patient's subject is dropped, the client kept: %s", line)
				}
			}
		}
	}
	// The self-access subject hashes as the patient does, so the SIEM sees
	// a patient reading their own record.
	m := masker{mode: PatientIDsHash, key: key}
	if r := m.entry(own); r.Caller.Subject != r.Patient {
		t.Errorf("hash of the subject %q differs from the patient's %q", r.Caller.Subject, r.Patient)
	}
	// plain leaves every field as the ledger has it.
	if r := (masker{mode: PatientIDsPlain}).entry(glass); r.BreakGlass.Reason != glass.BreakGlass.Reason {
		t.Errorf("plain changed the reason: %+v", r.BreakGlass)
	}
}
