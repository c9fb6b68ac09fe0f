//go:build !unix

package seal

import "os"

// KeepOwner: file owners are not carried over on this platform.
func KeepOwner(*os.File, string) {}
