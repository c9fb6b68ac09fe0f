package fjson_test

import (
	"fmt"

	"github.com/ds4p/ds4p/internal/fjson"
)

func Example() {
	body := []byte(`{"resourceType":"Observation","meta":{"versionId":"2"},"valueQuantity":{"value":60.40,"unit":"kg"},"note":[{"text":"caf\u00e9"}]}`)
	if err := fjson.Validate(body, 64); err != nil {
		fmt.Println(err)
		return
	}
	ms, me, _, _ := fjson.Lookup(body, 0, "meta")
	vs, ve, _, _ := fjson.Lookup(body, ms, "versionId")
	version, _ := fjson.StringValue(body, vs, ve)
	fmt.Println("version", version)

	// Insert a security label as the last member of meta; nothing else moves.
	label := fjson.AppendString([]byte(`,"security":[{"system":`), "http://terminology.hl7.org/CodeSystem/v3-Confidentiality")
	label = append(fjson.AppendString(append(label, `,"code":`...), "R"), "}]"...)
	out, err := fjson.Apply(nil, body, []fjson.Edit{{Start: me - 1, End: me - 1, Data: label}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out))
	// Output:
	// version 2
	// {"resourceType":"Observation","meta":{"versionId":"2","security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]},"valueQuantity":{"value":60.40,"unit":"kg"},"note":[{"text":"caf\u00e9"}]}
}
