package externalscaler

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedUpToDate regenerates the code into a temporary directory, as
// `go generate` does here, and fails when the committed files differ: an
// edit of the .proto or of a pinned plugin version without regenerating.
// It builds buf and the plugins with `go run` (cached after the first run),
// so -short skips it.
func TestGeneratedUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds buf and the protoc plugins")
	}
	out := t.TempDir()
	cmd := exec.Command("go", "run", "github.com/bufbuild/buf/cmd/buf@v1.75.0", "generate", "--output", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("buf generate: %v\n%s", err, b)
	}
	for _, name := range []string{"externalscaler.pb.go", "externalscaler_grpc.pb.go"} {
		want, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what externalscaler.proto generates: run go generate ./web/keda/externalscaler", name)
		}
	}
}
