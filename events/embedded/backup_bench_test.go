package embedded_test

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vigie/events/embedded"
)

// BenchmarkBackupAndRestoreOfOneMillion: the log of BenchmarkLogOfOneMillion (1,000,000
// events of 512 bytes over 100,000 streams), backed up online through the admin socket
// while it serves, then restored from the file: the time an operator waits for each,
// and the file's size. Restore includes every check (SHA-256 of each file and of the
// archive, the extracted log opened and counted) and the fsyncs.
func BenchmarkBackupAndRestoreOfOneMillion(b *testing.B) {
	if f := flag.Lookup("test.bench"); os.Getenv("VIGIE_BENCH_1M") != "1" && (f == nil || !strings.Contains(f.Value.String(), "Million")) {
		b.Skip("run with -bench BackupAndRestoreOfOneMillion or VIGIE_BENCH_1M=1")
	}
	const total = 1_000_000
	dir := b.TempDir()
	storeDir := filepath.Join(dir, "eventstore")
	n := startNode(b, storeDir)
	b.Cleanup(func() { _ = n.close() })
	benchPayloads()
	fill(b, n.client, "load-", 100_000, total, 10, 64)
	if h := n.store.Head(); h != total {
		b.Fatalf("head %d, want %d", h, total)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		file := filepath.Join(dir, "backup.tar")
		ckpt := filepath.Join(dir, "checkpoint")
		t0 := time.Now()
		online, err := embedded.Snapshot(context.Background(), storeDir, ckpt)
		if err != nil || !online {
			b.Fatalf("snapshot: online %v, %v", online, err)
		}
		f, err := os.Create(file)
		if err != nil {
			b.Fatal(err)
		}
		m, err := embedded.WriteBackup(f, ckpt, false, time.Now())
		if err == nil {
			err = f.Sync()
		}
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		backup := time.Since(t0)
		fi, _ := os.Stat(file)
		_ = os.RemoveAll(ckpt)

		restored := filepath.Join(dir, "restored")
		t1 := time.Now()
		f, err = os.Open(file)
		if err != nil {
			b.Fatal(err)
		}
		rm, err := embedded.ExtractBackup(f, restored)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		restore := time.Since(t1)
		if rm.Head != total || rm.Events != total || m.Head != total {
			b.Fatalf("restored head %d, %d events; want %d", rm.Head, rm.Events, total)
		}
		b.ReportMetric(backup.Seconds(), "backup-s")
		b.ReportMetric(restore.Seconds(), "restore-s")
		b.ReportMetric(float64(fi.Size())/(1<<20), "file-MiB")
		_ = os.RemoveAll(restored)
		_ = os.Remove(file)
	}
}
