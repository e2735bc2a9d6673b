// Command wsfc-dll is a Windows failover-cluster resource DLL built from
// resdll resource types: the quick-start's web type ("resdll Web") and a
// scripted type a test harness drives ("resdll Scripted"). Build it on any
// platform with mingw-w64:
//
//	CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc \
//	    go build -buildmode=c-shared -o resdll.dll ./examples/wsfc-dll
//
// The DLL exports only Startup. Its init function registers the types and
// hands the host to wsfc.Serve; main is never run in a DLL, and run as a
// program it only says how to build the DLL. The README's section on
// Windows failover clustering says how to install it on a cluster.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() { usage(os.Stdout) }

func usage(w io.Writer) {
	fmt.Fprintln(w, "wsfc-dll is a Windows resource DLL serving the types", WebType, "and", ScriptedType+"; build it with")
	fmt.Fprintln(w, "  CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc go build -buildmode=c-shared -o resdll.dll ./examples/wsfc-dll")
}
