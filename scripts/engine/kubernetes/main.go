// The pulumi-resource-kubernetes plugin, built from the provider's Go module.
//
// The module's own cmd/pulumi-resource-kubernetes/main.go embeds schema-embed.json and
// terraform-mapping-embed.json, which its Makefile generates and the module zip does not
// contain, so `go build` of that package fails. This is the same five-line main; the build
// script (scripts/engine/install.sh) generates the two embedded files from the schema.json and
// terraform-mapping.json that the module does ship, as the module's generate.go does.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
