package ds4p_test

import data.ds4p

test_purpose_stated if {
	ds4p.purpose_stated with input as req("o", ["TREAT"], [], [])
		with data.ds4p.config as config
	not ds4p.purpose_stated with input as req("o", [], [], [])
		with data.ds4p.config as config
}

test_purpose_known if {
	ds4p.purpose_known with input as req("o", ["TREAT", "HPAYMT"], [], [])
		with data.ds4p.config as config
	not ds4p.purpose_known with input as req("o", [], [], [])
		with data.ds4p.config as config
	not ds4p.purpose_known with input as req("o", ["TREAT", "MADEUP"], [], [])
		with data.ds4p.config as config
}

test_purposes_within_needs_every_purpose if {
	ds4p.purposes_within(["TREAT", "HPAYMT"]) with input as req("o", ["TREAT"], [], [])
		with data.ds4p.config as config
	not ds4p.purposes_within(["TREAT"]) with input as req("o", ["TREAT", "HMARKT"], [], [])
		with data.ds4p.config as config
	not ds4p.purposes_within(["TREAT"]) with input as req("o", [], [], [])
		with data.ds4p.config as config
}
