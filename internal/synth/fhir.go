package synth

import (
	"html"
	"strings"
	"time"
)

const (
	xhtmlOpen  = `<div xmlns="http://www.w3.org/1999/xhtml">`
	xhtmlClose = `</div>`

	usCore = "http://hl7.org/fhir/us/core/StructureDefinition/"
)

// codingOf returns the FHIR Coding for c.
func codingOf(c concept) obj {
	return obj{{"system", c.system}, {"code", c.code}, {"display", c.display}}
}

// codeable returns a CodeableConcept with every concept as a coding and text.
func codeable(text string, cs ...concept) obj {
	codings := make(arr, len(cs))
	for i, c := range cs {
		codings[i] = codingOf(c)
	}
	o := obj{{"coding", codings}}
	if text != "" {
		o = append(o, field{"text", text})
	}
	return o
}

// reference returns a Reference with an optional display.
func reference(ref, display string) obj {
	if display == "" {
		return obj{{"reference", ref}}
	}
	return obj{{"reference", ref}, {"display", display}}
}

// quantity returns a UCUM Quantity with a literal decimal value.
func quantity(value, unit, code string) obj {
	return obj{{"value", num(value)}, {"unit", unit}, {"system", SystemUCUM}, {"code", code}}
}

// metaOf returns Resource.meta: version 1, last updated, source system and profiles.
func metaOf(updated time.Time, source string, profiles ...string) obj {
	o := obj{{"versionId", "1"}, {"lastUpdated", instant(updated)}}
	if source != "" {
		o = append(o, field{"source", source})
	}
	if len(profiles) > 0 {
		ps := make(arr, len(profiles))
		for i, p := range profiles {
			ps[i] = p
		}
		o = append(o, field{"profile", ps})
	}
	return o
}

// narrativeOf returns a generated Narrative in the style of the FHIR IG
// publisher: anchors, a header, a box naming the profiles, then one
// paragraph per label/value row.
func narrativeOf(typ, id string, profiles []string, rows ...[2]string) obj {
	var b strings.Builder
	b.WriteString(xhtmlOpen)
	b.WriteString(`<a name="` + typ + "_" + html.EscapeString(id) + `"> </a>`)
	b.WriteString(`<p class="res-header-id"><b>Generated Narrative: ` + typ + " " + html.EscapeString(id) + `</b></p>`)
	b.WriteString(`<a name="` + html.EscapeString(id) + `"> </a><a name="hc` + html.EscapeString(id) + `"> </a>`)
	writeProfileBox(&b, profiles)
	for _, r := range rows {
		b.WriteString(`<p><b>`)
		b.WriteString(html.EscapeString(r[0]))
		b.WriteString(`</b>: `)
		b.WriteString(html.EscapeString(r[1]))
		b.WriteString(`</p>`)
	}
	b.WriteString(xhtmlClose)
	return obj{{"status", "generated"}, {"div", b.String()}}
}

const profileBoxStyle = `display: inline-block; background-color: #d9e0e7; padding: 6px; margin: 4px; ` +
	`border: 1px solid #8da1b4; border-radius: 5px; line-height: 60%`

func writeProfileBox(b *strings.Builder, profiles []string) {
	if len(profiles) == 0 {
		return
	}
	b.WriteString(`<div style="` + profileBoxStyle + `"><p style="margin-bottom: 0px">Profile`)
	if len(profiles) > 1 {
		b.WriteString("s")
	}
	b.WriteString(": ")
	for i, p := range profiles {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`<a href="` + p + `">` + p[strings.LastIndexByte(p, '/')+1:] + `</a>`)
	}
	b.WriteString(`</p></div>`)
}

// identifierOf returns an Identifier with use official.
func identifierOf(system, value string) obj {
	return obj{{"use", "official"}, {"system", system}, {"value", value}}
}

// zone is the synthetic data's local time zone (US Eastern standard time).
var zone = time.FixedZone("EST", -5*60*60)

// epoch is the earliest date the generator uses for clinical events.
var epoch = time.Date(2023, time.January, 2, 8, 0, 0, 0, zone)

// dateTime formats t as a FHIR dateTime with the local offset.
func dateTime(t time.Time) string { return t.In(zone).Format(time.RFC3339) }

// instant formats t as a FHIR instant in UTC with milliseconds.
func instant(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// day formats t as a FHIR date.
func day(t time.Time) string { return t.In(zone).Format(time.DateOnly) }

// header returns the members every resource starts with: resourceType, id,
// meta and a generated narrative with the given rows.
func header(typ, id string, meta obj, rows ...[2]string) obj {
	return obj{
		{"resourceType", typ}, {"id", id},
		{"meta", meta},
		{"text", narrativeOf(typ, id, profilesOf(meta), rows...)},
	}
}

// profilesOf returns the profiles listed in a meta object.
func profilesOf(meta obj) []string {
	for _, f := range meta {
		if f.k != "profile" {
			continue
		}
		var out []string
		for _, p := range f.v.(arr) {
			out = append(out, p.(string))
		}
		return out
	}
	return nil
}
