package checker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/cronpulse/cronpulse/models"
)

// maxRedirects is how many redirects a check follows (SPEC §5).
const maxRedirects = 10

// bodyReadLimit is how much of a response body a check reads. Reading lets
// the connection be reused and the response time cover the body; nothing of
// it is stored. A longer body is cut off and its connection closed.
const bodyReadLimit = 1 << 20

// httpRunner sends checks' requests through one shared transport, so
// connections to a host are kept alive and reused across checks and jobs.
type httpRunner struct {
	transport http.RoundTripper
	userAgent string
}

// errPrivateAddress is returned by the dialer when CHECK_ALLOW_PRIVATE is
// false and a check would connect to a loopback, private or link-local
// address.
var errPrivateAddress = errors.New("address is loopback, private or link-local")

// newHTTPRunner builds the shared transport. With allowPrivate false the
// dialer refuses internal addresses at connect time, after DNS resolution,
// so a public name that resolves (or is re-bound) to 127.0.0.1 is refused
// too. No proxy is used: a proxy would make that check see only the proxy's
// address.
func newHTTPRunner(o Options) *httpRunner {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	if !o.AllowPrivate {
		d.Control = refusePrivate
	}
	perHost := max(o.PerHost, 1)
	t := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          max(o.Concurrency, perHost),
		MaxIdleConnsPerHost:   perHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
	}
	return &httpRunner{transport: t, userAgent: o.UserAgent}
}

// refusePrivate is a net.Dialer Control function refusing internal
// addresses.
func refusePrivate(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("dial %s: %w", address, err)
	}
	ip := ap.Addr().Unmap()
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsUnspecified() || ip.IsInterfaceLocalMulticast() {
		return fmt.Errorf("%s: %w", ip, errPrivateAddress)
	}
	return nil
}

// check performs one HTTP check of j and returns its run, not yet stored.
// started is when the run began (on the engine's clock).
func (r *httpRunner) check(ctx context.Context, j *models.Job, started time.Time) *models.CheckRun {
	run := &models.CheckRun{JobID: j.ID, CreatedAt: started}
	timeout := time.Duration(max(j.Timeout, 1)) * time.Second
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	req, err := r.newRequest(ctx, j)
	if err != nil {
		run.Result, run.Error = models.RunError, err.Error()
		return run
	}
	expectRedirect := j.ExpectedStatusCode >= 300 && j.ExpectedStatusCode < 400
	client := &http.Client{
		Transport: r.transport,
		CheckRedirect: func(_ *http.Request, via []*http.Request) error {
			if expectRedirect {
				return http.ErrUseLastResponse
			}
			if len(via) > maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			return nil
		},
	}
	t0 := time.Now()
	resp, err := client.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, bodyReadLimit))
		_ = resp.Body.Close() // the body is read (or deliberately cut off); a close error changes nothing
	}
	run.ResponseTimeMs = time.Since(t0).Milliseconds()
	if resp != nil {
		code := resp.StatusCode
		run.HTTPStatus = &code
	}
	switch {
	case err != nil:
		run.Result, run.Error = describeError(err, timeout)
	case resp.StatusCode != j.ExpectedStatusCode:
		run.Result = models.RunFailure
		run.Error = fmt.Sprintf("expected %d, got %d", j.ExpectedStatusCode, resp.StatusCode)
	default:
		run.Result = models.RunSuccess
	}
	return run
}

// newRequest builds the job's request: method, url, headers, body and the
// CronPulse User-Agent (a User-Agent among the job's headers wins).
func (r *httpRunner) newRequest(ctx context.Context, j *models.Job) (*http.Request, error) {
	var body io.Reader
	if j.Body != nil && *j.Body != "" {
		body = strings.NewReader(*j.Body)
	}
	method := j.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, j.URL, body)
	if err != nil {
		return nil, fmt.Errorf("invalid request: %w", err)
	}
	req.Header.Set("User-Agent", r.userAgent)
	for k, v := range j.Headers {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	return req, nil
}

// describeError turns a failed request into a result (timeout or error)
// and a message a user can act on.
func describeError(err error, timeout time.Duration) (string, string) {
	var (
		netErr      net.Error
		dnsErr      *net.DNSError
		unknownCA   x509.UnknownAuthorityError
		hostnameErr x509.HostnameError
		invalidCert x509.CertificateInvalidError
		recordErr   tls.RecordHeaderError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		return models.RunTimeout, fmt.Sprintf("timed out after %s", timeout)
	case errors.Is(err, errPrivateAddress):
		return models.RunError, "refused: " + innermost(err) + " (set CHECK_ALLOW_PRIVATE=true to allow)"
	case errors.Is(err, syscall.ECONNREFUSED):
		return models.RunError, "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return models.RunError, "connection reset by peer"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return models.RunError, "host unreachable"
	case errors.As(err, &dnsErr):
		return models.RunError, fmt.Sprintf("DNS lookup of %s failed: %s", dnsErr.Name, dnsErr.Err)
	case errors.As(err, &unknownCA):
		return models.RunError, "TLS certificate not trusted: " + unknownCA.Error()
	case errors.As(err, &hostnameErr):
		return models.RunError, "TLS certificate not valid for this host: " + hostnameErr.Error()
	case errors.As(err, &invalidCert):
		return models.RunError, "TLS certificate invalid: " + invalidCert.Error()
	case errors.As(err, &recordErr):
		return models.RunError, "TLS handshake failed: the server did not answer with TLS"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return models.RunError, "connection closed by the server before a complete response"
	}
	return models.RunError, innermost(err)
}

// innermost strips net/http's "Get \"url\": " wrapping, which repeats what
// the user already knows.
func innermost(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}
