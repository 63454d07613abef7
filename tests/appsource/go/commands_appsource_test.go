// Tests of the patched worker, ours (archivist-infra), compiled inside the patched pinned source by
// scripts/ci/app.sh (copied to cmd/main/commands/).
package commands

import (
	"testing"

	"archivist/internal/app"
	"archivist/internal/ui"
)

// The fast mode keeps the configured models (config.yaml gemini.model and the methodology stage).
func TestAppsourceModeKeepsConfiguredModels(t *testing.T) {
	cfg := &app.Config{}
	cfg.Gemini.Model = "models/configured-generation"
	cfg.Gemini.Agentic.Stages.MethodologyAnalysis.Model = "models/configured-methodology"
	applyModeConfig(cfg, ui.ModeFast)
	if cfg.Gemini.Model != "models/configured-generation" {
		t.Fatalf("gemini.model overwritten with %q", cfg.Gemini.Model)
	}
	if got := cfg.Gemini.Agentic.Stages.MethodologyAnalysis.Model; got != "models/configured-methodology" {
		t.Fatalf("methodology_analysis.model overwritten with %q", got)
	}
}

// Empty settings keep upstream's mode defaults.
func TestAppsourceModeFillsEmptyModels(t *testing.T) {
	cfg := &app.Config{}
	applyModeConfig(cfg, ui.ModeFast)
	if cfg.Gemini.Model != ui.GetModeConfigs()[ui.ModeFast].Model || cfg.Gemini.Agentic.Stages.MethodologyAnalysis.Model == "" {
		t.Fatalf("empty models not filled: %q, %q", cfg.Gemini.Model, cfg.Gemini.Agentic.Stages.MethodologyAnalysis.Model)
	}
}
