package checker

import (
	"context"
	"sync"
)

// limiter bounds the checks in flight: at most `global` at once, and at most
// `perHost` against any one host. A check takes its host slot first and only
// then a global one, so checks queued behind a slow host wait without
// holding global slots that other hosts' checks could use.
type limiter struct {
	global  chan struct{}
	perHost int

	mu    sync.Mutex
	hosts map[string]*hostSlots
}

// hostSlots are one host's slots and how many checks hold or wait for them
// (the entry is dropped when that reaches zero, so the map stays small).
type hostSlots struct {
	slots chan struct{}
	users int
}

func newLimiter(global, perHost int) *limiter {
	return &limiter{
		global:  make(chan struct{}, max(global, 1)),
		perHost: max(perHost, 1),
		hosts:   map[string]*hostSlots{},
	}
}

// acquire waits for a slot for host and a global one. On success the caller
// must call the returned release exactly once.
func (l *limiter) acquire(ctx context.Context, host string) (func(), error) {
	l.mu.Lock()
	h := l.hosts[host]
	if h == nil {
		h = &hostSlots{slots: make(chan struct{}, l.perHost)}
		l.hosts[host] = h
	}
	h.users++
	l.mu.Unlock()

	leave := func() {
		l.mu.Lock()
		h.users--
		if h.users == 0 {
			delete(l.hosts, host)
		}
		l.mu.Unlock()
	}
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		leave()
		return nil, ctx.Err()
	}
	select {
	case l.global <- struct{}{}:
	case <-ctx.Done():
		<-h.slots
		leave()
		return nil, ctx.Err()
	}
	return func() {
		<-l.global
		<-h.slots
		leave()
	}, nil
}
