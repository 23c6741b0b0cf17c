package modelstest

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// CutProxy stands between a test's store and PostgreSQL, forwarding the
// wire protocol message by message, and on demand loses one connection at
// the worst moment: when a statement is bound with a given number of
// parameters, either before the server sees it (nothing is written) or
// after the server has committed it and before its answer reaches the
// client (everything is written, and the client cannot know). A proxy
// speaking the real protocol to the real server stands in for a network
// that fails; nothing else here can.
//
// It reads the stream as PostgreSQL frames it (a type byte and a length,
// after an untyped startup message), so the URL must have sslmode=disable.
type CutProxy struct {
	target string
	mu     sync.Mutex
	armed  *cutAt
	cuts   atomic.Int32
}

type cutAt struct {
	params      int    // a Bind with this many parameters, or
	query       string // a simple Query with this text (case aside)
	afterCommit bool
}

// NewCutProxy listens on loopback for connections to the PostgreSQL server
// of dbURL and returns the proxy and dbURL pointing at it. It closes when
// the test ends.
func NewCutProxy(t testing.TB, dbURL string) (*CutProxy, string) {
	t.Helper()
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	require.Equal(t, "disable", u.Query().Get("sslmode"), "the proxy reads plain PostgreSQL frames")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &CutProxy{target: u.Host}
	var conns sync.WaitGroup
	var open sync.Map // net.Conn → struct{}: closed at cleanup so that no copier outlives the test
	t.Cleanup(func() {
		_ = ln.Close() // ends the accept loop
		open.Range(func(k, _ any) bool { _ = k.(net.Conn).Close(); return true })
		conns.Wait()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer conns.Done()
				p.serve(c, &open)
			}()
		}
	}()
	u.Host = ln.Addr().String()
	return p, u.String()
}

// CutBind arms the proxy, once: the next connection to bind a statement
// with params parameters is lost, before the server sees the statement or,
// with afterCommit, once the server has answered that it is done with it
// (ReadyForQuery: committed, outside an explicit transaction) and before
// the client hears any of that answer.
func (p *CutProxy) CutBind(params int, afterCommit bool) {
	p.arm(&cutAt{params: params, afterCommit: afterCommit})
}

// CutQuery is CutBind for the next simple query whose text is query, such
// as the COMMIT of a transaction.
func (p *CutProxy) CutQuery(query string, afterCommit bool) {
	p.arm(&cutAt{params: -1, query: query, afterCommit: afterCommit})
}

func (p *CutProxy) arm(c *cutAt) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.armed = c
}

// Cuts is how many connections the proxy has cut.
func (p *CutProxy) Cuts() int { return int(p.cuts.Load()) }

// take disarms the proxy and returns its cut if frame is the one it waits
// for.
func (p *CutProxy) take(typ byte, frame []byte) *cutAt {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.armed
	switch {
	case c == nil:
		return nil
	case typ == 'B' && c.query == "" && bindParams(frame) == c.params:
	case typ == 'Q' && c.query != "" && strings.EqualFold(strings.TrimRight(string(frame[5:]), "\x00"), c.query):
	default:
		return nil
	}
	p.armed = nil
	return c
}

func (p *CutProxy) serve(client net.Conn, open *sync.Map) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = client.Close()
		return
	}
	open.Store(client, struct{}{})
	open.Store(server, struct{}{})
	var once sync.Once
	closeBoth := func() {
		once.Do(func() {
			_ = client.Close()
			_ = server.Close()
			open.Delete(client)
			open.Delete(server)
		})
	}
	defer closeBoth()
	var doomed atomic.Bool
	done := make(chan struct{})
	go func() { // server → client
		defer close(done)
		defer closeBoth()
		for {
			typ, msg, err := readFrame(server, true)
			if err != nil {
				return
			}
			if doomed.Load() {
				if typ == 'Z' {
					p.cuts.Add(1)
					return
				}
				continue // the client hears none of the answer
			}
			if _, err := client.Write(msg); err != nil {
				return
			}
		}
	}()
	for typed := false; ; typed = true {
		typ, msg, err := readFrame(client, typed)
		if err != nil {
			break
		}
		if c := p.take(typ, msg); c != nil {
			if !c.afterCommit {
				p.cuts.Add(1)
				break // the server never sees the statement
			}
			doomed.Store(true)
		}
		if _, err := server.Write(msg); err != nil {
			break
		}
	}
	closeBoth()
	<-done
}

// readFrame reads one message: a type byte (unless untyped: the startup
// message) and a big-endian length that counts itself. It returns the
// type and the whole frame as read.
func readFrame(r io.Reader, typed bool) (byte, []byte, error) {
	head := 4
	if typed {
		head = 5
	}
	buf := make([]byte, head, 256)
	if _, err := io.ReadFull(r, buf); err != nil {
		return 0, nil, err
	}
	n := int(binary.BigEndian.Uint32(buf[head-4:]))
	if n < 4 || n > 1<<30 {
		return 0, nil, fmt.Errorf("frame length %d", n)
	}
	buf = append(buf, make([]byte, n-4)...)
	if _, err := io.ReadFull(r, buf[head:]); err != nil {
		return 0, nil, err
	}
	if !typed {
		return 0, buf, nil
	}
	return buf[0], buf, nil
}

// bindParams reads the parameter count of a Bind frame: after the type and
// length, the portal and statement names (NUL-terminated), the format codes
// (a count and that many int16) and then the parameter count.
func bindParams(frame []byte) int {
	b := frame[5:]
	for i := 0; i < 2; i++ {
		end := 0
		for end < len(b) && b[end] != 0 {
			end++
		}
		if end == len(b) {
			return -1
		}
		b = b[end+1:]
	}
	if len(b) < 2 {
		return -1
	}
	formats := int(binary.BigEndian.Uint16(b))
	b = b[2:]
	if len(b) < 2*formats+2 {
		return -1
	}
	return int(binary.BigEndian.Uint16(b[2*formats:]))
}
