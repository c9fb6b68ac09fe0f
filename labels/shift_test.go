package labels_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ds4p/ds4p/labels"
)

// shiftDemo is SHIFT's labelled sample data beside the checkout.
const shiftDemo = "../../shared/data/shift-demo"

// shiftExplained lists every resource where ds4p's labels differ from
// SHIFT's, "+CODE" for a label only ds4p gives and "-CODE" for one only
// SHIFT gives, with the reason. labels/README.md explains the classes.
var shiftExplained = map[string]string{
	"1A:Condition/CarlFredericksonMDD":                             "+MH: ds4p's MH rule also tags F33.1/SNOMED major depression MH beside SHIFT's BH",
	"1A:Condition/CarlFredericksonOCPD":                            "+MH: F60.5 is in ICD-10-CM F20-F69, tagged MH beside SHIFT's BH",
	"1A:Condition/CarlFredericksonOUD":                             "-42CFRPart2: ds4p gives 42CFRPart2 by source (a configured Part 2 program), never by code; SHIFT's opioid value set carries 42CFRPart2",
	"1A:MedicationRequest/CarlFredericksonBuprenorphineNaltrexone": "-42CFRPart2 (by source, not code) -BH: ds4p files buprenorphine/naloxone under SUD/OPIOIDUD only",
	"1A:MedicationRequest/CarlFredericksonFluoxetine":              "+MH: the BH RxNorm rule tags MH too",
	"1A:Observation/CarlFredericksonOUDThoughtRecord":              "+V -R -BH: psychotherapy notes get V (they need their own consent), and SHIFT's BH tag on PSYTHPN is not repeated",
	"1A:Observation/CarlFredericksonPHQ9":                          "+MH: the PHQ-9 LOINC rule tags MH too",
	"1A:Observation/CarlFredericksonPHQ9A":                         "-BH -R: a CPT code of care any patient gets is not shipped; SHIFT labels this by CPT",
	"1B:Condition/MonicaRambeauDandCAbortion":                      "-SICKVIS: SHIFT's abortion tag (SICKVIS here) is not a ds4p topic; abortion codes get SEX",
	"1B:Condition/MonicaRambeauMedicalAbortion":                    "-SICKVIS: SHIFT's abortion tag (SICKVIS here) is not a ds4p topic; abortion codes get SEX",
	"1B:DiagnosticReport/MonicaRambeauFirstTrimesterUS":            "-R -SEX -SICKVIS: a CPT code of care any patient gets is not shipped; SHIFT labels this by CPT",
	"1B:DiagnosticReport/MonicaRambeauQuadScreen":                  "-SICKVIS: SHIFT's abortion tag (SICKVIS here) is not a ds4p topic; abortion codes get SEX",
	"1B:MedicationRequest/MonicaRambeauAzithromycin":               "-R -STD: azithromycin treats many ordinary infections; labelling every prescription STD would over-label",
	"1B:MedicationRequest/MonicaRambeauMifepristone":               "-SICKVIS: SHIFT's abortion tag (SICKVIS here) is not a ds4p topic; abortion codes get SEX",
	"1B:MedicationRequest/MonicaRambeauMisoprostol":                "-SICKVIS: SHIFT's abortion tag (SICKVIS here) is not a ds4p topic; abortion codes get SEX",
	"1B:Procedure/MonicaRambeauDandCProcedure":                     "-SICKVIS: SHIFT's abortion tag (SICKVIS here) is not a ds4p topic; its HCPCS S2260 (under CMS's current HCPCS URL) gets SEX",
	"1C:Condition/SteffiRambeau16DandCAbortion":                    "-SICKVIS: SHIFT's abortion tag (SICKVIS here) is not a ds4p topic; abortion codes get SEX",
	"1C:Condition/SteffiRambeau16MedicalAbortion":                  "-SICKVIS: SHIFT's abortion tag (SICKVIS here) is not a ds4p topic; abortion codes get SEX",
	"1C:DiagnosticReport/SteffiRambeau16FirstTrimesterUS":          "-R -SEX: a CPT code of care any patient gets is not shipped; SHIFT labels this by CPT",
	"1C:MedicationRequest/SteffiRambeau16Azithromycin":             "-R -STD: azithromycin treats many ordinary infections",
	"1C:MedicationRequest/SteffiRambeau16Mifepristone":             "-SICKVIS: SHIFT's abortion tag (SICKVIS here) is not a ds4p topic; abortion codes get SEX",
	"1C:MedicationRequest/SteffiRambeau16Misoprostol":              "-SICKVIS: SHIFT's abortion tag (SICKVIS here) is not a ds4p topic; abortion codes get SEX",
	"1C:Procedure/SteffiRambeau16DandCProcedure":                   "-SICKVIS: SHIFT's abortion tag (SICKVIS here) is not a ds4p topic; its HCPCS S2260 (under CMS's current HCPCS URL) gets SEX",
	"2A:Condition/VeronicaMarsFinancialInsecurity":                 "-R: social determinants of health are not a ds4p sensitivity topic",
	"2A:Condition/VeronicaMarsFoodInsecurity":                      "-R: social determinants of health are not a ds4p sensitivity topic",
	"2A:Condition/VeronicaMarsHousingInstability":                  "-R: social determinants of health are not a ds4p sensitivity topic",
	"2A:Observation/VeronicaMarsEmploymentStatus":                  "-R: social determinants of health are not a ds4p sensitivity topic",
}

// TestShiftDemoRelabelled strips the labels of the SHIFT samples, labels
// them with the default rules (and the Part 2 program of sample 1A), and
// checks that every difference from SHIFT's labels is one explained in
// shiftExplained.
func TestShiftDemoRelabelled(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob(filepath.Join(shiftDemo, "*sample.json"))
	if len(files) == 0 {
		t.Skip(shiftDemo + " is absent: SHIFT comparison not run")
	}
	l := labels.Default()
	got := map[string]string{}
	for _, f := range files {
		for key, diff := range shiftDiffs(t, l, f) {
			got[key] = diff
		}
	}
	for key, diff := range got {
		if _, ok := shiftExplained[key]; !ok {
			t.Errorf("unexplained difference from SHIFT: %s %s", key, diff)
		}
	}
	for key := range shiftExplained {
		if _, ok := got[key]; !ok {
			t.Errorf("explained difference no longer seen: %s", key)
		}
	}
}

// shiftDiffs returns, per "file:Type/id", the labels ds4p and SHIFT
// disagree on.
func shiftDiffs(t *testing.T, l *labels.Labeller, file string) map[string]string {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var bundle struct {
		Entry []struct{ Resource map[string]any }
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		t.Fatal(err)
	}
	var batch [][]byte
	var theirs []map[string]bool
	for _, e := range bundle.Entry {
		theirs = append(theirs, map[string]bool{})
		if meta, ok := e.Resource["meta"].(map[string]any); ok {
			sec, _ := meta["security"].([]any)
			for _, s := range sec {
				code, _ := s.(map[string]any)["code"].(string)
				theirs[len(theirs)-1][code] = true
			}
			delete(meta, "security")
		}
		rb, _ := json.Marshal(e.Resource)
		batch = append(batch, rb)
	}
	rs, err := l.LabelAll(batch)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, r := range rs {
		var diff []string
		ours := map[string]bool{}
		for _, lb := range r.Labels {
			ours[lb.Code] = true
			if !theirs[k][lb.Code] {
				diff = append(diff, "+"+lb.Code)
			}
		}
		for c := range theirs[k] {
			if !ours[c] {
				diff = append(diff, "-"+c)
			}
		}
		if len(diff) > 0 {
			slices.Sort(diff)
			out[strings.TrimSuffix(filepath.Base(file), "sample.json")+":"+r.Type+"/"+r.ID] = strings.Join(diff, " ")
		}
	}
	return out
}
