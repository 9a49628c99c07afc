package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const (
	titanicRef = "../../analyzer/drift/testdata/titanic_reference.csv"
	titanicCur = "../../analyzer/drift/testdata/titanic_analysis.csv"
)

// driftRun runs vigil drift compare and returns stdout, stderr and the exit
// code.
func driftRun(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"drift", "compare"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatal(err)
		}
	}
	return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
}

type driftJSON struct {
	ReferenceFile string `json:"reference_file"`
	Columns       []struct {
		Column      string
		Type        string
		Method      string
		Status      string
		Statistic   json.RawMessage
		PValue      *float64 `json:"p_value"`
		Threshold   float64
		Drifted     bool
		Wasserstein *float64
		Reference   struct{ Rows, Values, Missing int }
		Current     struct{ Rows, Values, Missing int }
	}
	Tested          int     `json:"tested_columns"`
	Drifted         int     `json:"drifted_columns"`
	Share           float64 `json:"drifted_share"`
	DatasetDrift    bool    `json:"dataset_drift"`
	Status          string
	OnlyInReference []string `json:"only_in_reference"`
}

func decodeDrift(t *testing.T, out string) driftJSON {
	t.Helper()
	var d driftJSON
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("decoding %q: %v", out, err)
	}
	return d
}

func TestDriftCompareTitanic(t *testing.T) {
	// Every shared column: the identifier-like ones (PassengerId, Name,
	// Ticket, Cabin, boat, home.dest) and Embarked drift: 7 of 14.
	out, stderr, code := driftRun(t, "--reference", titanicRef, "--current", titanicCur, "--output", "json")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (dataset drift); stderr %s", code, stderr)
	}
	if !strings.Contains(stderr, "dataset drift: 7 of 14 tested columns drifted") {
		t.Errorf("stderr %q", stderr)
	}
	d := decodeDrift(t, out)
	if d.Tested != 14 || d.Drifted != 7 || !d.DatasetDrift || d.Status != "tested" || strings.Join(d.OnlyInReference, ",") != "Survived" {
		t.Errorf("verdict %+v", d)
	}
	byName := map[string]int{}
	for i, c := range d.Columns {
		byName[c.Column] = i
	}
	// SciPy 1.10 figures from the shared testdata README.
	age := d.Columns[byName["Age"]]
	var ageD float64
	json.Unmarshal(age.Statistic, &ageD)
	if age.Method != "ks" || math.Abs(ageD-0.045957) > 1e-6 || math.Abs(*age.PValue-0.702343) > 1e-6 ||
		age.Drifted || age.Reference.Missing != 177 || age.Current.Values != 332 {
		t.Errorf("Age %+v", age)
	}
	emb := d.Columns[byName["Embarked"]]
	var chi float64
	json.Unmarshal(emb.Statistic, &chi)
	if emb.Method != "chisquare" || math.Abs(chi-12.905209) > 1e-6 || math.Abs(*emb.PValue-0.00157641) > 1e-8 || !emb.Drifted || emb.Reference.Missing != 2 {
		t.Errorf("Embarked %+v", emb)
	}
	// A category unseen in the reference: chi-square +Inf, encoded as text.
	if name := d.Columns[byName["Name"]]; string(name.Statistic) != `"+Inf"` || *name.PValue != 0 || !name.Drifted {
		t.Errorf("Name %+v statistic %s", name, name.Statistic)
	}

	// The model's features only: one of five drifts, the dataset does not.
	out, stderr, code = driftRun(t, "--reference", titanicRef, "--current", titanicCur,
		"--columns", "Age,Fare,Sex,Pclass,Embarked", "--output", "json")
	if code != 0 {
		t.Fatalf("features: exit %d, want 0; stderr %s", code, stderr)
	}
	d = decodeDrift(t, out)
	if d.Tested != 5 || d.Drifted != 1 || d.Share != 0.2 || d.DatasetDrift {
		t.Errorf("features verdict %+v", d)
	}

	// Wasserstein normed by the reference std, from the same README.
	out, _, code = driftRun(t, "--reference", titanicRef, "--current", titanicCur, "--columns", "Fare", "--method", "wasserstein", "--output", "json")
	d = decodeDrift(t, out)
	var w float64
	json.Unmarshal(d.Columns[0].Statistic, &w)
	if code != 0 || math.Abs(w-0.083047) > 1e-6 || math.Abs(*d.Columns[0].Wasserstein-4.124586) > 1e-6 {
		t.Errorf("Fare wasserstein: exit %d %+v", code, d.Columns[0])
	}

	// The table says the same for people.
	out, _, code = driftRun(t, "--reference", titanicRef, "--current", titanicCur, "--columns", "Embarked,Age")
	if code != 1 || !strings.Contains(out, "Embarked") || !strings.Contains(out, "DRIFT") ||
		!strings.Contains(out, "dataset drift: YES (1 of 2 tested columns drifted") {
		t.Errorf("table: exit %d\n%s", code, out)
	}
}

func TestDriftCompareExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tiny := write("tiny.csv", "x\n1\n2\n3\n")
	bad := write("bad.csv", "x,y\n1,2\n3\n")
	for _, c := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"not enough data", []string{"--reference", tiny, "--current", tiny}, 3, "no column had enough data"},
		{"enough with --min-samples", []string{"--reference", tiny, "--current", tiny, "--min-samples", "3"}, 0, ""},
		{"malformed CSV", []string{"--reference", titanicRef, "--current", bad}, 2, "bad.csv:3: 1 fields, the header has 2"},
		{"unknown column", []string{"--reference", titanicRef, "--current", titanicCur, "--columns", "Nope"}, 2, `no column "Nope" in the header`},
		{"unknown method", []string{"--reference", titanicRef, "--current", titanicCur, "--method", "kl"}, 2, `unknown drift method "kl"`},
		{"missing file", []string{"--reference", filepath.Join(dir, "none.csv"), "--current", titanicCur}, 2, "none.csv"},
		{"missing flag", []string{"--reference", titanicRef}, 2, "needs --reference and --current"},
		{"bad flag", []string{"--bins", "many"}, 2, "invalid argument"},
	} {
		_, stderr, code := driftRun(t, c.args...)
		if code != c.code || !strings.Contains(stderr, c.stderr) {
			t.Errorf("%s: exit %d stderr %q, want %d and %q", c.name, code, stderr, c.code, c.stderr)
		}
	}
}
