package config

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Status is how the last reading of the config directory went.
type Status struct {
	Dir string
	// Successful says the last reading is the one in force.
	Successful bool
	// LastReload is when the directory was last read; LastSuccess when
	// the reading in force was.
	LastReload, LastSuccess time.Time
	// Problems of the last reading, sorted: its errors and warnings when
	// it failed, the warnings of the reading in force when it succeeded.
	Problems []Problem
}

// ReloadOptions tune a Reloader.
type ReloadOptions struct {
	// Poll is how often the directory's files are compared with those
	// last read (default 10s): the way changes are found where change
	// notifications are unavailable, and a net for any they miss.
	Poll time.Duration
	// Debounce is how long the directory must stay quiet after a change
	// before it is read (default 500ms), so the several writes of one
	// save, or of a git checkout, are read once.
	Debounce time.Duration
	Logger   *slog.Logger
}

// Reloader keeps the reading of the config directory in force. It reads
// the directory again when it changes (fsnotify, and polling), and takes
// a new reading into use only when it has no errors, swapping the whole
// Config at once; a bad edit leaves the last good reading in force, and
// Status says what is wrong with it. Current is safe from any goroutine.
type Reloader struct {
	dir      string
	registry *Registry
	opts     ReloadOptions

	current  atomic.Pointer[Config]
	reload   sync.Mutex // one reading at a time
	noNotify bool       // tests: poll only

	mu      sync.Mutex
	status  Status // guarded by mu
	existed bool   // guarded by mu: the directory existed for the reading in force
	files   uint64 // guarded by mu: the fingerprint of the files last read
}

// NewReloader reads the directory for the first time. A directory that
// does not exist configures nothing (its creation is noticed); one whose
// reading has errors is refused with *Errors.
func NewReloader(dir string, registry *Registry, opts ReloadOptions) (*Reloader, error) {
	if opts.Poll <= 0 {
		opts.Poll = 10 * time.Second
	}
	if opts.Debounce <= 0 {
		opts.Debounce = 500 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Reloader{dir: dir, registry: registry, opts: opts, status: Status{Dir: dir}}
	if !r.Reload() {
		return nil, Err(dir, r.Status().Problems)
	}
	return r, nil
}

// Current is the reading in force.
func (r *Reloader) Current() *Config { return r.current.Load() }

// Status says how the last reading went.
func (r *Reloader) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.status
	st.Problems = append([]Problem(nil), st.Problems...)
	return st
}

// Reload reads the directory now and takes the reading into use when it
// has no errors; it reports whether it did.
func (r *Reloader) Reload() bool {
	r.reload.Lock()
	defer r.reload.Unlock()
	files := fingerprint(r.dir)
	start := time.Now()
	cfg, problems, exists := r.read()
	ok := !HasErrors(problems)

	first := r.current.Load() == nil
	r.mu.Lock()
	r.files = files
	r.status.LastReload, r.status.Successful, r.status.Problems = start, ok, problems
	if ok {
		r.current.Store(cfg)
		r.status.LastSuccess, r.existed = start, exists
	}
	r.mu.Unlock()

	log := r.opts.Logger
	switch {
	case !ok && first: // NewReloader returns the errors
	case !ok:
		var msgs []string
		for _, p := range problems {
			if p.Severity == Error {
				msgs = append(msgs, p.String())
			}
		}
		log.Error("config directory not reloaded: the last good config stays in force", "dir", r.dir, "errors", len(msgs), "problems", strings.Join(msgs, "; "))
	case exists:
		log.Info("config directory read", "dir", r.dir, "files", len(cfg.Files), "warnings", len(problems), "took", time.Since(start).Round(time.Millisecond))
	}
	return ok
}

// read reads the directory: empty while it has never existed, an error
// once it is gone, so a directory moved away for a moment does not
// unconfigure everything.
func (r *Reloader) read() (*Config, []Problem, bool) {
	if _, err := os.Stat(r.dir); errors.Is(err, fs.ErrNotExist) {
		r.mu.Lock()
		existed := r.existed
		r.mu.Unlock()
		if !existed {
			return r.registry.Empty(), nil, false
		}
		return nil, []Problem{{File: r.dir, Severity: Error, Message: "the directory is gone"}}, false
	}
	cfg, problems, err := r.registry.Load([]string{r.dir})
	if err != nil {
		return nil, []Problem{{File: r.dir, Severity: Error, Message: err.Error()}}, true
	}
	SortProblems(problems)
	return cfg, problems, true
}

// Run reloads the directory after each change until ctx ends: on a change
// notification for the directory or a folder below it, or when polling
// finds its files changed, once the directory has been quiet for
// Debounce.
func (r *Reloader) Run(ctx context.Context) error {
	log := r.opts.Logger
	var events <-chan fsnotify.Event
	var watchErrs <-chan error
	w, err := fsnotify.NewWatcher()
	if r.noNotify && err == nil {
		w.Close()
		w, err = nil, errors.New("notifications switched off")
	}
	if err != nil {
		log.Warn("cannot watch the config directory for changes; polling it", "dir", r.dir, "every", r.opts.Poll, "err", err)
	} else {
		defer w.Close()
		events, watchErrs = w.Events, w.Errors
		r.watch(w)
	}
	poll := time.NewTicker(r.opts.Poll)
	defer poll.Stop()
	quiet := time.NewTimer(time.Hour)
	quiet.Stop()
	r.mu.Lock()
	seen := r.files // the files as the last poll found them
	r.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			quiet.Reset(r.opts.Debounce)
		case err, ok := <-watchErrs:
			if !ok {
				watchErrs = nil
				continue
			}
			// An overflow loses events: read the directory anyway.
			log.Warn("watching the config directory", "dir", r.dir, "err", err)
			quiet.Reset(r.opts.Debounce)
		case <-poll.C:
			// A change since the last poll restarts the quiet period; files
			// that stay as they are let it run out, however often polls come.
			if fp := fingerprint(r.dir); fp != seen {
				seen = fp
				quiet.Reset(r.opts.Debounce)
			}
		case <-quiet.C:
			r.Reload()
			if w != nil {
				r.watch(w) // folders made since
			}
		}
	}
}

// watch adds the directory and every folder below it (hidden ones
// skipped, as Files skips them) to w; inotify watches one folder each.
func (r *Reloader) watch(w *fsnotify.Watcher) {
	filepath.WalkDir(r.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if path != r.dir && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if err := w.Add(path); err != nil {
			r.opts.Logger.Warn("cannot watch a config folder; it is polled", "dir", path, "err", err)
		}
		return nil
	})
}

// fingerprint sums the name, size, time and mode of every file under dir
// (hidden ones skipped; symbolic links followed, as reading follows
// them, so a Kubernetes ConfigMap's swap of its ..data link is seen).
func fingerprint(dir string) uint64 {
	h := fnv.New64a()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			fmt.Fprintf(h, "%s\x00%v\x00", path, err)
			return nil
		}
		if path != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		info, err := os.Stat(path)
		if err != nil {
			fmt.Fprintf(h, "%s\x00%v\x00", path, err)
			return nil
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\x00%v\x00", path, info.Size(), info.ModTime().UnixNano(), info.Mode())
		return nil
	})
	if err != nil {
		fmt.Fprintf(h, "%v", err)
	}
	return h.Sum64()
}
