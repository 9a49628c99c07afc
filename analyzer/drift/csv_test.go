package drift

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestReadCSV(t *testing.T) {
	in := "\ufeffid,score,label,mixed,code\n" +
		"1, 0.5 ,a,1.50,1\n" +
		"2,NaN,b,x,2\n" +
		"3,,NA,1.5,null\n" +
		"4,1e999,\"c, d\",2,N/A\n"
	cols, err := ReadCSV("in.csv", strings.NewReader(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*Column{}
	for _, c := range cols {
		byName[c.Name] = c
	}
	if len(cols) != 5 || cols[0].Name != "id" {
		t.Fatalf("columns %v (the BOM must not stay in the first name)", cols)
	}
	score := byName["score"]
	if score.Kind != Numeric || score.Floats[0] != 0.5 || !math.IsNaN(score.Floats[1]) || !math.IsNaN(score.Floats[2]) || !math.IsInf(score.Floats[3], 1) {
		t.Errorf("score %+v", score)
	}
	label := byName["label"]
	if label.Kind != Categorical || label.Codes[2] != -1 || label.Levels[label.Codes[3]] != "c, d" {
		t.Errorf("label %+v", label)
	}
	// A numeric prefix then a label: the numbers become labels in their
	// shortest form, so "1.50" and "1.5" are one category.
	mixed := byName["mixed"]
	if mixed.Kind != Categorical || mixed.Codes[0] != mixed.Codes[2] || mixed.Levels[mixed.Codes[0]] != "1.5" || mixed.Levels[mixed.Codes[3]] != "2" {
		t.Errorf("mixed %+v", mixed)
	}
	code := byName["code"]
	if code.Kind != Numeric || len(code.Floats) != 4 || !math.IsNaN(code.Floats[3]) {
		t.Errorf("code %+v", code)
	}
	counts, n, missing := categoryCounts(mixed)
	if n != 4 || missing != 0 || counts["1.5"] != 2 {
		t.Errorf("counts %v %d %d", counts, n, missing)
	}

	only, err := ReadCSV("in.csv", strings.NewReader(in), []string{"label", "id"})
	if err != nil || len(only) != 2 || only[0].Name != "label" || only[1].Name != "id" {
		t.Errorf("only label,id: %v %v", only, err)
	}
}

func TestReadCSVErrors(t *testing.T) {
	for _, c := range []struct{ in, only, want string }{
		{"", "", "in.csv: empty file, want a header row"},
		{"a,b\n1,2\n3\n", "", "in.csv:3: 1 fields, the header has 2"},
		{"a,b\n1,2\n\"x\"y,2\n", "", "in.csv:3:3: extraneous or missing \" in quoted-field"},
		{"a,b\n1,\"2\n", "", "in.csv:2:6: extraneous or missing \" in quoted-field"},
		{"a,b,a\n1,2,3\n", "", "in.csv:1: column 3 has the same name \"a\" as column 1"},
		{"a,b\n1,2\n", "c", "in.csv: no column \"c\" in the header"},
	} {
		var only []string
		if c.only != "" {
			only = strings.Split(c.only, ",")
		}
		_, err := ReadCSV("in.csv", strings.NewReader(c.in), only)
		if err == nil || err.Error() != c.want {
			t.Errorf("%q: error %v, want %q", c.in, err, c.want)
		}
	}
}

// FuzzReadCSV: any input either fails with an error or gives columns that
// each have one entry per data row, codes within their levels, and that
// compare without panicking.
func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("a,b\n1,x\n2,\n"))
	f.Add([]byte("\ufeffx\n1e999\nNaN\n-0\n"))
	f.Add([]byte("a,b\n\"1\n2\",3\n"))
	f.Add([]byte("p,q\n1,1\n1.0,a\n,NA\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cols, err := ReadCSV("fuzz.csv", bytes.NewReader(data), nil)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.csv") {
				t.Fatalf("error does not name the input: %v", err)
			}
			return
		}
		rows := -1
		for _, c := range cols {
			if rows == -1 {
				rows = c.Len()
			}
			if c.Len() != rows {
				t.Fatalf("column %q has %d rows, others %d", c.Name, c.Len(), rows)
			}
			for _, code := range c.Codes {
				if code < -1 || int(code) >= len(c.Levels) {
					t.Fatalf("code %d outside %d levels", code, len(c.Levels))
				}
			}
		}
		rep := Compare(cols, cols, Options{MinSamples: 1})
		for _, r := range rep.Columns {
			if r.Status == StatusTested && r.Drifted {
				t.Fatalf("column %q drifted against itself: %+v", r.Column, r)
			}
		}
	})
}

// A file read through *os.File has its columns sized from its length
// after 1024 rows; the values must be the same as from a plain reader,
// including a column that turns categorical after that.
func TestReadCSVFileSizing(t *testing.T) {
	var b strings.Builder
	b.WriteString("n,m\n")
	for i := range 3000 {
		m := strconv.Itoa(i % 7)
		if i == 2500 {
			m = "late label"
		}
		fmt.Fprintf(&b, "%d.25,%s\n", i, m)
	}
	path := filepath.Join(t.TempDir(), "big.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fromFile, err := ReadCSV(path, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := ReadCSV(path, strings.NewReader(b.String()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromFile, plain) {
		t.Fatal("columns differ between *os.File and strings.Reader")
	}
	if n := fromFile[0]; n.Kind != Numeric || len(n.Floats) != 3000 || n.Floats[2999] != 2999.25 || cap(n.Floats) < 3000 {
		t.Errorf("n: kind %v len %d", n.Kind, len(n.Floats))
	}
	if m := fromFile[1]; m.Kind != Categorical || len(m.Codes) != 3000 || m.Levels[m.Codes[2500]] != "late label" {
		t.Errorf("m: kind %v len %d", m.Kind, len(m.Codes))
	}
}
