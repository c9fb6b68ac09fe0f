package synth

import (
	"slices"
	"strconv"
	"time"
)

// patientGen builds one patient's record.
type patientGen struct {
	r      *rnd
	id     string // "pat-0"
	ref    string // "Patient/pat-0"
	name   string // display name, e.g. "Maria Silva"
	clock  time.Time
	seq    map[string]int
	out    []Resource
	weight int // body weight in tenths of a kilogram
	height int // body height in tenths of a centimetre
}

// careMix says which kinds of sensitive data a patient has.
type careMix struct {
	part2, edSUD, mh, hiv, sdv bool
}

// mixFor returns the guaranteed mix of the first three patients and a
// seeded one for the others.
func mixFor(i int, r *rnd) careMix {
	switch i {
	case 0:
		return careMix{part2: true}
	case 1:
		return careMix{}
	case 2:
		return careMix{mh: true, hiv: true}
	}
	return careMix{
		part2: r.chance(30),
		edSUD: r.chance(25),
		mh:    r.chance(30),
		hiv:   r.chance(10),
		sdv:   r.chance(10),
	}
}

// generatePatient returns the resources of patient i: the Patient, then its
// visits in time order. Each patient draws from its own random stream, so a
// larger dataset starts with the same patients as a smaller one.
func generatePatient(seed int64, i int) []Resource {
	r := newRnd(seed, uint64(i))
	p := &patientGen{
		r:     r,
		id:    patientID(i),
		ref:   PatientRef(i),
		clock: epoch.AddDate(0, 0, r.intn(240)).Add(time.Duration(r.intn(8)) * time.Hour),
		seq:   map[string]int{},
	}
	m := mixFor(i, r)
	p.patient(i)
	p.visits(m, i == 0)
	p.immunizations()
	p.allergies()
	return p.out
}

// visits emits the first check-up, then the other visits in a seeded order.
func (p *patientGen) visits(m careMix, fixed bool) {
	p.firstVisit()
	var rest []func()
	for range p.r.between(1, 3) {
		rest = append(rest, p.ordinaryVisit)
	}
	if m.part2 {
		rest = append(rest, func() { p.part2Treatment(fixed) })
	}
	if m.edSUD {
		rest = append(rest, p.edSubstanceUse)
	}
	if m.mh {
		rest = append(rest, p.mentalHealth)
	}
	if m.hiv {
		rest = append(rest, p.hivCare)
	}
	if m.sdv {
		rest = append(rest, p.domesticViolence)
	}
	for i := len(rest) - 1; i > 0; i-- {
		j := p.r.intn(i + 1)
		rest[i], rest[j] = rest[j], rest[i]
	}
	for _, visit := range rest {
		p.advance()
		visit()
	}
}

// advance moves the clock to the next visit, 3 to 16 weeks later.
func (p *patientGen) advance() {
	p.clock = p.clock.AddDate(0, 0, p.r.between(21, 112))
}

// nextID returns the next id of a kind, e.g. "pat-3-obs-7".
func (p *patientGen) nextID(kind string) string {
	p.seq[kind]++
	return p.id + "-" + kind + "-" + strconv.Itoa(p.seq[kind])
}

// emit records a built resource with its ground truth.
func (p *patientGen) emit(typ, id string, topics []string, part2 bool, body obj) {
	p.out = append(p.out, Resource{
		Type: typ, ID: id, Patient: p.ref, Topics: slices.Clone(topics), Part2: part2, JSON: encode(body),
	})
}

var (
	givenFemale = []string{"Maria", "Aisha", "Emily", "Grace", "Sofia", "Hannah", "Mei", "Olivia", "Fatima", "Chloe", "Isabel", "Naomi", "Priya", "Rosa", "Zoe"}
	givenMale   = []string{"James", "Mateo", "Daniel", "Kwame", "Liam", "Omar", "Wei", "Noah", "Ethan", "Diego", "Samuel", "Arjun", "Lucas", "Tomas", "Jamal"}
	middleNames = []string{"Ann", "Lee", "Marie", "James", "Rose", "Joseph", "Grace", "Alan", "Jean", "Ray"}
	familyNames = []string{"Silva", "Johnson", "Okafor", "Kowalski", "Nguyen", "Garcia", "Smith", "Haddad", "Chen", "Murphy", "Patel", "Rossi", "Williams", "Andersen", "Tanaka", "Brown", "Dubois", "Mensah", "Lopez", "Novak"}
	streets     = []string{"Maple Avenue", "Oak Street", "Elm Court", "Cedar Lane", "Pine Road", "Birch Way", "Walnut Drive", "Chestnut Street"}
	towns       = [][2]string{{"Springfield", "01108"}, {"Chicopee", "01013"}, {"Holyoke", "01040"}, {"Westfield", "01085"}, {"Agawam", "01001"}}
)

// patient emits the Patient resource. It names nothing sensitive: a Part 2
// patient's demographics come from the hospital and carry no Part 2 link.
func (p *patientGen) patient(i int) {
	r := p.r
	gender, given, birthSex := "female", pick(r, givenFemale), "F"
	if r.chance(50) {
		gender, given, birthSex = "male", pick(r, givenMale), "M"
	}
	middle, family := pick(r, middleNames), pick(r, familyNames)
	p.name = given + " " + family
	birth := time.Date(1950+r.intn(55), time.Month(1+r.intn(12)), 1+r.intn(28), 0, 0, 0, 0, zone)
	mrn := strconv.Itoa(100000 + i)
	town := pick(r, towns)
	addr := [4]string{strconv.Itoa(r.between(10, 999)) + " " + pick(r, streets), town[0], "MA", town[1]}
	phone := "555-" + strconv.Itoa(r.between(200, 989)) + "-" + strconv.Itoa(r.between(1000, 9999))
	doctor := staffByID("hospital-physician")
	p.emit("Patient", p.id, nil, false, append(header("Patient", p.id, metaOf(p.clock, HospitalSource, usCore+"us-core-patient"),
		[2]string{"name", given + " " + middle + " " + family},
		[2]string{"MRN", mrn},
		[2]string{"gender", gender},
		[2]string{"birthDate", day(birth)},
		[2]string{"address", addressText(addr)}), obj{
		{"extension", arr{obj{{"url", usCore + "us-core-birthsex"}, {"valueCode", birthSex}}}},
		{"identifier", arr{obj{
			{"use", "usual"},
			{"type", codeable("Medical Record Number", concept{systemV20203, "MR", "Medical Record Number"})},
			{"system", SystemMRN},
			{"value", mrn},
			{"assigner", reference(HospitalOrgRef, actorByID("general-hospital").name)},
		}}},
		{"active", true},
		{"name", arr{obj{{"use", "official"}, {"family", family}, {"given", arr{given, middle}}}}},
		{"telecom", arr{obj{{"system", "phone"}, {"value", phone}, {"use", "home"}}}},
		{"gender", gender},
		{"birthDate", day(birth)},
		{"address", arr{addressOf(addr, "home")}},
		{"communication", arr{obj{
			{"language", codeable("English", concept{"urn:ietf:bcp:47", "en-US", "English (United States)"})},
			{"preferred", true},
		}}},
		{"generalPractitioner", arr{reference(HospitalPractitionerRef, staffName(doctor))}},
		{"managingOrganization", reference(HospitalOrgRef, actorByID("general-hospital").name)},
	}...))
}
