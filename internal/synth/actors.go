package synth

import "time"

// References and identifiers of the organisations every dataset contains.
const (
	// Part2OrgRef is the federally assisted SUD treatment program (42 CFR Part 2).
	Part2OrgRef = "Organization/part2-clinic"
	// HospitalOrgRef is a general hospital, not a Part 2 program.
	HospitalOrgRef = "Organization/general-hospital"
	// HIEOrgRef is a health information exchange.
	HIEOrgRef = "Organization/hie"

	// Part2PractitionerRef prescribes and records at the Part 2 program.
	Part2PractitionerRef = "Practitioner/part2-clinician"
	// HospitalPractitionerRef is a primary care physician at the hospital.
	HospitalPractitionerRef = "Practitioner/hospital-physician"
	// EDPractitionerRef is an emergency physician at the hospital.
	EDPractitionerRef = "Practitioner/hospital-ed-physician"
	// HIEPractitionerRef is a care coordinator at the HIE.
	HIEPractitionerRef = "Practitioner/hie-coordinator"

	// Part2NPI is the Part 2 program's NPI (valid check digit, synthetic).
	Part2NPI = "1847002312"
	// HospitalNPI is the hospital's NPI (valid check digit, synthetic).
	HospitalNPI = "1629004585"

	// Part2Source is meta.source of every resource the Part 2 program recorded.
	Part2Source = "http://part2-clinic.example.org/fhir"
	// HospitalSource is meta.source of every resource the hospital recorded.
	HospitalSource = "http://general-hospital.example.org/fhir"
	// HIESource is meta.source of the HIE's own resources.
	HIESource = "http://hie.example.org/fhir"

	part2LocationRef    = "Location/part2-clinic-site"
	hospitalLocationRef = "Location/general-hospital-main"
)

// actorsUpdated is when the directory resources were last updated.
var actorsUpdated = time.Date(2022, time.December, 1, 9, 0, 0, 0, zone)

// actor describes one organisation and the people and place that belong to it.
type actor struct {
	id, name, source, npi, orgType, phone string
	address                               [4]string // line, city, state, postal code
	location                              string    // Location id, "" when none
	staff                                 []staff
}

// staff is a practitioner with a role at an organisation.
type staff struct {
	id, family, given, prefix, suffix, npi string
	specialty                              concept
}

var actors = []actor{
	{
		id: "part2-clinic", name: "Riverside Recovery Center", source: Part2Source, npi: Part2NPI,
		orgType: "prov", phone: "555-201-4400",
		address:  [4]string{"1200 Harbor Street", "Springfield", "MA", "01103"},
		location: "part2-clinic-site",
		staff: []staff{{id: "part2-clinician", family: "Okafor", given: "Adaeze", prefix: "Dr.", suffix: "MD",
			npi: "1730009259", specialty: concept{systemProviderTax, "2084A0401X", "Addiction Medicine (Psychiatry & Neurology)"}}},
	},
	{
		id: "general-hospital", name: "Springfield General Hospital", source: HospitalSource, npi: HospitalNPI,
		orgType: "prov", phone: "555-201-1000",
		address:  [4]string{"800 Main Street", "Springfield", "MA", "01105"},
		location: "general-hospital-main",
		staff: []staff{
			{id: "hospital-physician", family: "Lindqvist", given: "Erik", prefix: "Dr.", suffix: "MD",
				npi: "1578002143", specialty: concept{systemProviderTax, "207Q00000X", "Family Medicine"}},
			{id: "hospital-ed-physician", family: "Ramirez", given: "Lucia", prefix: "Dr.", suffix: "DO",
				npi: "1954003673", specialty: concept{systemProviderTax, "207P00000X", "Emergency Medicine"}},
		},
	},
	{
		id: "hie", name: "Pioneer Valley Health Information Exchange", source: HIESource,
		orgType: "other", phone: "555-201-7700",
		address: [4]string{"45 State Street", "Springfield", "MA", "01103"},
		staff: []staff{{id: "hie-coordinator", family: "Nguyen", given: "Thanh", suffix: "RN",
			npi: "1109008437", specialty: concept{systemProviderTax, "163W00000X", "Registered Nurse"}}},
	},
}

// directory returns the Organizations, Locations, Practitioners and
// PractitionerRoles shared by all patients, in that order.
func directory() []Resource {
	var orgs, locs, pracs, roles []Resource
	for _, a := range actors {
		orgs = append(orgs, directoryResource("Organization", a.id, organization(a)))
		if a.location != "" {
			locs = append(locs, directoryResource("Location", a.location, location(a)))
		}
		for _, s := range a.staff {
			pracs = append(pracs, directoryResource("Practitioner", s.id, practitioner(a, s)))
			roles = append(roles, directoryResource("PractitionerRole", s.id+"-role", practitionerRole(a, s)))
		}
	}
	return append(append(append(orgs, locs...), pracs...), roles...)
}

func directoryResource(typ, id string, body obj) Resource {
	return Resource{Type: typ, ID: id, JSON: encode(body)}
}

func organization(a actor) obj {
	idents := arr{}
	if a.npi != "" {
		idents = append(idents, obj{{"system", SystemNPI}, {"value", a.npi}})
	} else {
		idents = append(idents, obj{{"system", "urn:ietf:rfc:3986"}, {"value", "urn:oid:2.16.840.1.113883.19.5.3"}})
	}
	typeText := "Healthcare Provider"
	if a.orgType == "other" {
		typeText = "Other"
	}
	return append(header("Organization", a.id, metaOf(actorsUpdated, a.source, usCore+"us-core-organization"), [2]string{"name", a.name}, [2]string{"address", addressText(a.address)}), obj{
		{"identifier", idents},
		{"active", true},
		{"type", arr{codeable(typeText, concept{systemOrgType, a.orgType, typeText})}},
		{"name", a.name},
		{"telecom", arr{obj{{"system", "phone"}, {"value", a.phone}, {"use", "work"}}}},
		{"address", arr{addressOf(a.address, "work")}},
	}...)
}

func location(a actor) obj {
	return append(header("Location", a.location, metaOf(actorsUpdated, a.source, usCore+"us-core-location"), [2]string{"name", a.name}, [2]string{"address", addressText(a.address)}), obj{
		{"status", "active"},
		{"name", a.name},
		{"telecom", arr{obj{{"system", "phone"}, {"value", a.phone}}}},
		{"address", addressOf(a.address, "work")},
		{"managingOrganization", reference("Organization/"+a.id, a.name)},
	}...)
}

func practitioner(a actor, s staff) obj {
	name := obj{{"use", "official"}, {"family", s.family}, {"given", arr{s.given}}}
	if s.prefix != "" {
		name = append(name, field{"prefix", arr{s.prefix}})
	}
	name = append(name, field{"suffix", arr{s.suffix}})
	return append(header("Practitioner", s.id, metaOf(actorsUpdated, a.source, usCore+"us-core-practitioner"), [2]string{"name", staffName(s)}, [2]string{"organization", a.name}), obj{
		{"identifier", arr{obj{{"system", SystemNPI}, {"value", s.npi}}}},
		{"active", true},
		{"name", arr{name}},
		{"telecom", arr{obj{{"system", "phone"}, {"value", a.phone}, {"use", "work"}}}},
	}...)
}

func practitionerRole(a actor, s staff) obj {
	role := obj{
		{"resourceType", "PractitionerRole"}, {"id", s.id + "-role"},
		{"meta", metaOf(actorsUpdated, a.source, usCore+"us-core-practitionerrole")},
		{"active", true},
		{"practitioner", reference("Practitioner/"+s.id, staffName(s))},
		{"organization", reference("Organization/"+a.id, a.name)},
		{"specialty", arr{codeable(s.specialty.display, s.specialty)}},
	}
	if a.location != "" {
		role = append(role, field{"location", arr{reference("Location/"+a.location, a.name)}})
	}
	return role
}

func staffName(s staff) string {
	n := s.given + " " + s.family + ", " + s.suffix
	if s.prefix != "" {
		n = s.prefix + " " + n
	}
	return n
}

func addressOf(a [4]string, use string) obj {
	return obj{{"use", use}, {"line", arr{a[0]}}, {"city", a[1]}, {"state", a[2]}, {"postalCode", a[3]}, {"country", "US"}}
}

func addressText(a [4]string) string { return a[0] + ", " + a[1] + ", " + a[2] + " " + a[3] }

// actorByID returns the actor with the given organisation id.
func actorByID(id string) actor {
	for _, a := range actors {
		if a.id == id {
			return a
		}
	}
	panic("synth: unknown actor " + id)
}

// staffByID returns the practitioner with the given id.
func staffByID(id string) staff {
	for _, a := range actors {
		for _, s := range a.staff {
			if s.id == id {
				return s
			}
		}
	}
	panic("synth: unknown practitioner " + id)
}
