// Command testdeps installs what the tests need before they run in parallel: the
// Dendrite test bed binaries and the npm packages of the matrix-js-sdk test client and
// of the browser call harness.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/contactcenter/contactcenter/testbed"
	"github.com/contactcenter/contactcenter/testclient/browser"
	"github.com/contactcenter/contactcenter/testclient/jsclient"
)

func main() {
	ctx := context.Background()
	start := time.Now()
	if _, err := testbed.EnsureDendrite(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "installing Dendrite:", err)
		os.Exit(1)
	}
	if err := jsclient.Ensure(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "installing the matrix-js-sdk test client:", err)
		os.Exit(1)
	}
	if err := browser.Ensure(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "installing the browser call harness:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "test dependencies ready in %s\n", time.Since(start).Round(time.Millisecond))
}
