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
// the worst moment for a given statement (see CutPoint). A proxy speaking
// the real protocol to the real server stands in for a network that fails;
// nothing else here can.
//
// It reads the stream as PostgreSQL frames it (a type byte and a length,
// after an untyped startup message), so the URL must have sslmode=disable.
type CutProxy struct {
	target string
	mu     sync.Mutex
	armed  *cutAt
	closed bool
	conns  sync.WaitGroup
	open   map[net.Conn]bool // closed at cleanup, so that no copier outlives the test
	cuts   atomic.Int32
	// refuse counts the new connections still to refuse (see Outage);
	// refusedN those refused so far.
	refuse, refusedN int
	// dropCancels makes CancelRequests go nowhere, as when the network to
	// the server is down (a client that loses a connection may send one).
	dropCancels atomic.Bool
	// fakePIDs gives clients process ids of the proxy's own, as a pooler
	// does.
	fakePIDs atomic.Bool
}

// CutPoint is where in a statement's exchange the connection is lost.
type CutPoint int

const (
	// BeforeSend: the server never sees the statement (nothing is written).
	BeforeSend CutPoint = iota
	// AfterSend: the server gets the whole statement and the connection is
	// lost at once, with the server still running it (it may commit after
	// the client has given up).
	AfterSend
	// AfterCommit: the server has answered that it is done (ReadyForQuery:
	// committed, outside an explicit transaction) and the client hears
	// none of the answer (everything is written, and the client cannot
	// know).
	AfterCommit
	// Hang: the server gets the statement and the client never hears back,
	// on a connection that stays open, as on a network that drops packets
	// (the client must give up by itself).
	Hang
)

type cutAt struct {
	params int    // a Bind with this many parameters, or
	query  string // a simple Query with this text (case aside)
	at     CutPoint
	outage int // refusals of an Outage that starts with the cut
}

// NewCutProxy listens on loopback for connections to the PostgreSQL server
// of dbURL and returns the proxy and dbURL pointing at it. It closes when
// the test ends. An empty dbURL (no PostgreSQL) skips t.
func NewCutProxy(t testing.TB, dbURL string) (*CutProxy, string) {
	t.Helper()
	Database{Name: "postgres", URL: dbURL}.SkipIfMissing(t)
	u, err := url.Parse(dbURL)
	require.NoError(t, err)
	require.Equal(t, "disable", u.Query().Get("sslmode"), "the proxy reads plain PostgreSQL frames")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &CutProxy{target: u.Host, open: map[net.Conn]bool{}}
	t.Cleanup(func() {
		_ = ln.Close() // ends the accept loop
		p.mu.Lock()
		p.closed = true
		for c := range p.open {
			_ = c.Close()
		}
		p.mu.Unlock()
		p.conns.Wait()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if !p.track(c) {
				return
			}
			go func() {
				defer p.conns.Done()
				p.serve(c)
			}()
		}
	}()
	u.Host = ln.Addr().String()
	return p, u.String()
}

// track registers c (and counts a copier for it) unless the proxy is
// closed, in which case it closes c.
func (p *CutProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		_ = c.Close()
		return false
	}
	p.open[c] = true
	p.conns.Add(1)
	return true
}

// Outage breaks every connection through the proxy now and refuses (closes
// at once) the next refusals new ones, as a database that restarts or
// fails over does for a moment.
func (p *CutProxy) Outage(refusals int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.open {
		_ = c.Close()
	}
	p.refuse = refusals
}

// refused reports whether a new connection is to be refused, counting it.
func (p *CutProxy) refused() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.refuse == 0 {
		return false
	}
	p.refuse--
	p.refusedN++
	return true
}

// Refused is how many connections the proxy has refused.
func (p *CutProxy) Refused() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refusedN
}

// addOpen registers c unless the proxy is closed.
func (p *CutProxy) addOpen(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.open[c] = true
	return true
}

// CutBind arms the proxy, once: the next connection to bind a statement
// with params parameters is lost at the point given.
func (p *CutProxy) CutBind(params int, at CutPoint) {
	p.arm(&cutAt{params: params, at: at})
}

// CutQuery is CutBind for the next simple query whose text is query, such
// as the COMMIT of a transaction.
func (p *CutProxy) CutQuery(query string, at CutPoint) {
	p.arm(&cutAt{params: -1, query: query, at: at})
}

// ThenOutage makes the armed cut start an Outage of refusals new
// connections.
func (p *CutProxy) ThenOutage(refusals int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.armed != nil {
		p.armed.outage = refusals
	}
}

func (p *CutProxy) arm(c *cutAt) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.armed = c
}

// DropCancelRequests makes the proxy swallow every CancelRequest from now
// on: a query then runs on after its client gave up, as it does when the
// client cannot reach the server any more.
func (p *CutProxy) DropCancelRequests() { p.dropCancels.Store(true) }

// FakeBackendPIDs makes the proxy tell clients, from now on, process ids
// that are not the server's (in BackendKeyData), as a pooler such as
// PgBouncer does.
func (p *CutProxy) FakeBackendPIDs() { p.fakePIDs.Store(true) }

// cancelRequestCode opens a CancelRequest, in place of a protocol version.
const cancelRequestCode = 80877102

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

func (p *CutProxy) serve(client net.Conn) {
	if p.refused() {
		p.mu.Lock()
		delete(p.open, client)
		p.mu.Unlock()
		_ = client.Close()
		return
	}
	var once sync.Once
	var server net.Conn
	closeBoth := func() {
		once.Do(func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			_ = client.Close()
			delete(p.open, client)
			if server != nil {
				_ = server.Close()
				delete(p.open, server)
			}
		})
	}
	defer closeBoth()
	server, err := net.Dial("tcp", p.target)
	if err != nil || !p.addOpen(server) {
		if server != nil {
			_ = server.Close()
			server = nil
		}
		return
	}
	var doomed atomic.Int32 // the cut point whose answer is not forwarded, +1 (0: none)
	counted := sync.OnceFunc(func() { p.cuts.Add(1) })
	done := make(chan struct{})
	go func() { // server → client
		defer close(done)
		defer closeBoth()
		for {
			typ, msg, err := readFrame(server, true)
			if err != nil {
				return
			}
			if typ == 'K' && len(msg) == 13 && p.fakePIDs.Load() {
				binary.BigEndian.PutUint32(msg[5:], binary.BigEndian.Uint32(msg[5:])^0x40000000)
			}
			if at := doomed.Load(); at != 0 {
				if typ == 'Z' {
					counted()
					if CutPoint(at-1) != Hang {
						return
					}
				}
				continue // the client hears none of the answer
			}
			if _, err := client.Write(msg); err != nil {
				return
			}
		}
	}()
	var cut *cutAt
	for typed := false; ; typed = true {
		typ, msg, err := readFrame(client, typed)
		if err != nil {
			break
		}
		if !typed && len(msg) == 16 && binary.BigEndian.Uint32(msg[4:]) == cancelRequestCode && p.dropCancels.Load() {
			break
		}
		if cut == nil {
			if cut = p.take(typ, msg); cut != nil {
				if cut.at == BeforeSend {
					counted()
					if cut.outage > 0 {
						p.Outage(cut.outage)
					}
					break // the server never sees the statement
				}
				doomed.Store(int32(cut.at) + 1)
			}
		}
		if _, err := server.Write(msg); err != nil {
			break
		}
		// A simple Query is its own end; a Bind's exchange ends at Sync.
		if cut != nil && cut.at == AfterSend && (typ == 'Q' || typ == 'S') {
			counted()
			break // lost with the statement on the server
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
