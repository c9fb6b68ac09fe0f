package proxy

import "os"

// DS4P_TEST_STREAM_ALL=1 streams every Bundle, however small, so that the
// whole suite runs through the streamed rendering (stream.go); make test
// runs the package once that way.
func init() {
	if os.Getenv("DS4P_TEST_STREAM_ALL") == "1" {
		streamAll = true
	}
}
