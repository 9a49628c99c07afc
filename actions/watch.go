package actions

import "sync"

// watchers are the listeners to actions' transitions in this process:
// the live timeline of an action's page. A transition reaches them once
// it is written, whether the dispatcher carries it on or not (executing,
// verifying and succeeded are only recorded), so a page sees every step.
type watchers struct {
	mu sync.Mutex
	by map[string]map[chan struct{}]struct{} // tenant, NUL, action id → listeners; guarded by mu
}

// Watch returns a channel that receives a value after this process
// records a transition of the tenant's action id (several transitions in
// a row may come as one value: read the action again), and a function
// that ends the watch. Transitions another process records (an analyzer
// of its own executing what this web process approved) do not reach it:
// a watcher also reads the action again now and then.
func (e *Engine) Watch(tenant, id string) (changed <-chan struct{}, stop func()) {
	return e.watch.add(tenant + "\x00" + id)
}

func (w *watchers) add(key string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.by == nil {
		w.by = map[string]map[chan struct{}]struct{}{}
	}
	if w.by[key] == nil {
		w.by[key] = map[chan struct{}]struct{}{}
	}
	w.by[key][ch] = struct{}{}
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.by[key], ch)
		if len(w.by[key]) == 0 {
			delete(w.by, key)
		}
	}
}

// notify wakes the action's listeners without ever blocking the engine:
// a listener that has not read the last value yet will read the action
// anyway.
func (w *watchers) notify(tenant, id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.by[tenant+"\x00"+id] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
