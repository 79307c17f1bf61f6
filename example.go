// Package contactcenter holds the files that ship inside the binary.
package contactcenter

import _ "embed"

// ExampleConfig is config.example.yaml: the defaults and the documented keys.
//
//go:embed config.example.yaml
var ExampleConfig []byte
