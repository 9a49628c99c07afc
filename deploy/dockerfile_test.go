package deploy

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDockerfileBuild builds the binary with the Dockerfile's own build
// command, from the repository's root as the image build does (no Docker
// engine runs here), runs it, and checks that the builder image's Go is
// the one go.mod asks for.
func TestDockerfileBuild(t *testing.T) {
	f, err := os.Open("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var build, builder string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "RUN ") && strings.Contains(line, "go build") {
			build = strings.TrimPrefix(line, "RUN ")
		}
		if strings.HasPrefix(line, "FROM golang:") {
			builder = strings.Fields(line)[1]
		}
	}
	if build == "" || !strings.Contains(build, "/out/vigil") {
		t.Fatalf("no RUN line building /out/vigil in the Dockerfile")
	}
	mod, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(mod)
	if goVersion == nil || !strings.HasPrefix(builder, "golang:"+string(goVersion[1])+"-") {
		t.Errorf("builder image %s, but go.mod asks for Go %s", builder, goVersion[1])
	}

	out := filepath.Join(t.TempDir(), "vigil")
	cmd := exec.Command("sh", "-c", strings.ReplaceAll(build, "/out/vigil", out))
	cmd.Dir = ".."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, b)
	}
	v, err := exec.Command(out, "version").Output()
	if err != nil || !strings.HasPrefix(string(v), "vigil ") {
		t.Errorf("the built binary's version: %q, %v", v, err)
	}
}
