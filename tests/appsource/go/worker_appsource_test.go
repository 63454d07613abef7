// Tests of the patched worker, ours (archivist-infra), compiled inside the patched pinned source by
// scripts/ci/app.sh (copied to internal/worker/, so they see the package's unexported names).
package worker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"archivist/internal/app"
	"archivist/pkg/fileutil"
)

// TestAppsourcePublish is driven by tests/appsource (APPSOURCE_* env): a batch run's pool (no
// interactive opt-in) with graph.kafka from the config publishes the paper through the worker's own
// producer, in the format internal/graph/kafka_producer.go writes, and Close delivers it.
func TestAppsourcePublish(t *testing.T) {
	brokers := os.Getenv("APPSOURCE_KAFKA_BROKERS")
	if brokers == "" {
		t.Fatal("APPSOURCE_KAFKA_BROKERS is not set: this test is run by tests/appsource")
	}
	cfg := &app.Config{}
	cfg.Graph.Enabled = true
	cfg.Graph.Kafka.Brokers = strings.Split(brokers, ",")
	cfg.Graph.Kafka.Topic = os.Getenv("APPSOURCE_KAFKA_TOPIC")
	pool := NewWorkerPool(1, cfg, nil, false) // enableGraphBuilding=false: the batch (non-interactive) run
	if pool.kafkaProducer == nil {
		t.Fatal("a batch run with graph.kafka.brokers has no Kafka producer")
	}
	latex, err := os.ReadFile(os.Getenv("APPSOURCE_LATEX"))
	if err != nil {
		t.Fatal(err)
	}
	title := extractTitleFromLatex(string(latex))
	if err := pool.kafkaProducer.PublishPaperProcessed(context.Background(), title, string(latex), os.Getenv("APPSOURCE_PDF_PATH")); err != nil {
		t.Fatal(err)
	}
	if err := pool.kafkaProducer.Close(); err != nil {
		t.Fatal(err)
	}
	if stats := pool.kafkaProducer.GetStats(); stats.Messages != 1 || stats.Errors != 0 {
		t.Fatalf("producer wrote %d message(s) with %d error(s), want 1 and 0", stats.Messages, stats.Errors)
	}
}

// Without brokers in the config, a batch run keeps upstream's behaviour: no producer.
func TestAppsourceNoBrokersNoBatchProducer(t *testing.T) {
	cfg := &app.Config{}
	cfg.Graph.Enabled = true
	if pool := NewWorkerPool(1, cfg, nil, false); pool.kafkaProducer != nil {
		t.Fatal("a batch run without graph.kafka.brokers created a producer")
	}
}

// Inbox hygiene: processed papers go to processed/, failed ones to failed/ with the error beside
// them, and neither is listed for the next batch; a paper outside the inbox is not moved.
func TestAppsourceInboxHygiene(t *testing.T) {
	inbox := t.TempDir()
	for _, name := range []string{"a.pdf", "b.pdf", "topic/c.pdf"} {
		path := filepath.Join(inbox, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("%PDF-1.4"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	outside := filepath.Join(t.TempDir(), "d.pdf")
	if err := os.WriteFile(outside, []byte("%PDF-1.4"), 0o644); err != nil {
		t.Fatal(err)
	}
	fileInboxPaper(inbox, filepath.Join(inbox, "a.pdf"), nil)
	fileInboxPaper(inbox, filepath.Join(inbox, "b.pdf"), errors.New("PDF compilation failed: boom"))
	fileInboxPaper(inbox, filepath.Join(inbox, "topic/c.pdf"), nil)
	fileInboxPaper(inbox, outside, nil)

	if _, err := os.Stat(filepath.Join(inbox, "processed", "a.pdf")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(inbox, "processed", "topic", "c.pdf")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(inbox, "failed", "b.pdf")); err != nil {
		t.Fatal(err)
	}
	reason, err := os.ReadFile(filepath.Join(inbox, "failed", "b.error.txt"))
	if err != nil || !strings.Contains(string(reason), "boom") {
		t.Fatalf("failed/b.error.txt: %q, %v", reason, err)
	}
	if _, err := os.Stat(outside); err != nil {
		t.Fatalf("a paper outside the inbox was moved: %v", err)
	}
	if err := os.WriteFile(filepath.Join(inbox, "new.pdf"), []byte("%PDF-1.4"), 0o644); err != nil {
		t.Fatal(err)
	}
	listed, err := fileutil.GetInboxPDFFiles(inbox)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(listed)
	if len(listed) != 1 || listed[0] != filepath.Join(inbox, "new.pdf") {
		t.Fatalf("next batch would pick %v, want only new.pdf", listed)
	}
	all, _ := fileutil.GetPDFFiles(inbox) // list/index still see every paper
	if len(all) != 4 {
		t.Fatalf("GetPDFFiles found %d papers, want 4", len(all))
	}
}
