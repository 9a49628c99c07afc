package drift

import (
	"runtime"
	"sync"
)

// Report is a dataset comparison: every column's result and the verdict.
type Report struct {
	Columns []ColumnResult `json:"columns"`
	// Tested columns got a verdict; Drifted of them drifted. Share is
	// Drifted/Tested: columns without enough data or where the method does
	// not apply do not count either way.
	Tested     int     `json:"tested_columns"`
	Drifted    int     `json:"drifted_columns"`
	Share      float64 `json:"drifted_share"`
	DriftShare float64 `json:"drift_share_threshold"`
	// DatasetDrift: Share ≥ DriftShare. Status is StatusNotEnoughData when
	// no column could be tested.
	DatasetDrift bool   `json:"dataset_drift"`
	Status       Status `json:"status"`
	// Columns present on one side only, not compared.
	OnlyInReference []string `json:"only_in_reference,omitempty"`
	OnlyInCurrent   []string `json:"only_in_current,omitempty"`
}

// Compare compares every column the two samples share, matched by name, in
// the reference's order, on up to GOMAXPROCS columns at a time.
func Compare(ref, cur []*Column, opts Options) Report {
	opts = opts.withDefaults()
	byName := make(map[string]*Column, len(cur))
	for _, c := range cur {
		byName[c.Name] = c
	}
	var rep Report
	type pair struct{ r, c *Column }
	var pairs []pair
	inRef := make(map[string]bool, len(ref))
	for _, r := range ref {
		inRef[r.Name] = true
		if c, ok := byName[r.Name]; ok {
			pairs = append(pairs, pair{r, c})
		} else {
			rep.OnlyInReference = append(rep.OnlyInReference, r.Name)
		}
	}
	for _, c := range cur {
		if !inRef[c.Name] {
			rep.OnlyInCurrent = append(rep.OnlyInCurrent, c.Name)
		}
	}
	rep.Columns = make([]ColumnResult, len(pairs))
	// Columns are independent; each worker reuses its buffers for the
	// sorted copies, so memory stays bounded by the worker count.
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(len(pairs), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &scratch{}
			for i := range work {
				rep.Columns[i] = compareColumn(pairs[i].r, pairs[i].c, opts, s)
			}
		}()
	}
	for i := range pairs {
		work <- i
	}
	close(work)
	wg.Wait()
	rep.summarise(opts.DriftShare)
	return rep
}

// summarise sets the dataset verdict from the column results.
func (rep *Report) summarise(driftShare float64) {
	rep.DriftShare = driftShare
	rep.Tested, rep.Drifted = 0, 0
	for _, c := range rep.Columns {
		if c.Status != StatusTested {
			continue
		}
		rep.Tested++
		if c.Drifted {
			rep.Drifted++
		}
	}
	if rep.Tested == 0 {
		rep.Status = StatusNotEnoughData
		return
	}
	rep.Status = StatusTested
	rep.Share = float64(rep.Drifted) / float64(rep.Tested)
	rep.DatasetDrift = rep.Share >= driftShare
}
