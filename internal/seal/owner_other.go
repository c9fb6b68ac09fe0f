//go:build !unix

package seal

import "os"

// keepOwner: file owners are not carried over on this platform.
func keepOwner(*os.File, string) {}
