package main

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/vigil-dev/vigil/config"
	"github.com/vigil-dev/vigil/dispatch"
	"github.com/vigil-dev/vigil/stream"
)

// streamSet keeps the dispatcher's stream subscribers those of the config
// reading in force: a stream added by a reload starts publishing, a
// changed one gets a new publisher (its waiting events go with it), a
// removed one stops; an unchanged one keeps its publisher and connection.
type streamSet struct {
	live   liveConfig
	logger *slog.Logger

	mu   sync.Mutex
	read *config.Config              // guarded by mu: the reading taken up last
	cur  map[string]stream.Stream    // guarded by mu: by name
	pubs map[string]stream.Publisher // guarded by mu: by name
}

func newStreamSet(live liveConfig, logger *slog.Logger) *streamSet {
	return &streamSet{live: live, logger: logger, cur: map[string]stream.Stream{}, pubs: map[string]stream.Publisher{}}
}

// take makes the publishers of the reading in force, reusing those of
// unchanged streams, and reports whether the reading is a new one.
func (s *streamSet) take() (subs []dispatch.Subscriber, changed []string, fresh bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	read := s.live.current()
	if read == s.read {
		return nil, nil, false
	}
	s.read = read
	cur, pubs := map[string]stream.Stream{}, map[string]stream.Publisher{}
	for _, st := range s.live.streams() {
		if old, ok := s.cur[st.Name]; ok && old.Same(st) {
			pubs[st.Name] = s.pubs[st.Name]
		} else {
			pubs[st.Name] = st.Subscriber(streamStates)
			changed = append(changed, st.Name)
		}
		cur[st.Name] = st
		subs = append(subs, pubs[st.Name])
	}
	for name := range s.cur {
		if _, ok := cur[name]; !ok {
			changed = append(changed, name+" (removed)")
		}
	}
	s.cur, s.pubs = cur, pubs
	return subs, changed, true
}

// follow takes up every new reading until ctx ends, checking every
// interval (a reading is a pointer swap, cheap to compare).
func (s *streamSet) follow(ctx context.Context, disp *dispatch.Dispatcher, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		subs, changed, fresh := s.take()
		if !fresh || len(changed) == 0 {
			continue
		}
		retired, err := disp.Replace("stream:", subs)
		if err != nil {
			s.logger.Error("cannot reconfigure the streams", "err", err)
			continue
		}
		// An attempt under way with a retired publisher may be failed
		// by its close; the retry goes to the new publisher. AMQP's
		// Close waits for its attempt: not here.
		for _, r := range retired {
			if p, ok := r.(stream.Publisher); ok {
				go p.Close()
			}
		}
		s.logger.Info("streams reconfigured", "changed", strings.Join(changed, ", "))
	}
}

// close closes the publishers in force, once the dispatcher has stopped.
func (s *streamSet) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.pubs {
		p.Close()
	}
}
