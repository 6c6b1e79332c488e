// Package notify sends alert notifications: webhooks signed as Atlas signs
// them, and e-mail by SMTP. It refuses to call loopback, private and
// link-local addresses unless told otherwise, both when a webhook URL is
// configured (CheckURL) and when it is dialed (the Client's dialer), so
// that a project owner cannot aim the server at internal services, even
// through a DNS name that changes its answer.
package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

// ErrURL is the cause of every refused webhook URL.
var ErrURL = errors.New("notify: webhook URL refused")

// Refused reports whether ip is an address no webhook may reach without
// the operator's leave: loopback, private (RFC 1918, RFC 4193), link-local,
// unspecified, multicast, CGNAT (RFC 6598) or IPv4-mapped forms of these.
func Refused(ip netip.Addr) bool {
	ip = ip.Unmap()
	return !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsUnspecified() ||
		ip.IsMulticast() || cgnat.Contains(ip)
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// Resolver looks host names up; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// ParseURL checks that raw is an absolute http or https URL with a host.
func ParseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil {
		return nil, fmt.Errorf("%w: not an absolute http(s) URL without credentials", ErrURL)
	}
	return u, nil
}

// CheckURL checks a webhook URL at configuration time: an http(s) URL whose
// host, an address or a name, resolves only to addresses that Refused
// allows (any, with allowPrivate). A name that does not resolve is refused.
func CheckURL(ctx context.Context, raw string, allowPrivate bool, r Resolver) error {
	u, err := ParseURL(raw)
	if err != nil {
		return err
	}
	if allowPrivate {
		return nil
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if Refused(ip) {
			return fmt.Errorf("%w: %s is not a public address", ErrURL, ip)
		}
		return nil
	}
	if r == nil {
		r = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ips, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return fmt.Errorf("%w: %s does not resolve: %v", ErrURL, host, err)
	}
	for _, ip := range ips {
		if Refused(ip) {
			return fmt.Errorf("%w: %s resolves to %s, not a public address", ErrURL, host, ip)
		}
	}
	return nil
}

// dialControl refuses a connection to a Refused address: it runs after
// name resolution, on the address actually dialed.
func dialControl(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: dialing %q: %v", ErrURL, address, err)
	}
	if Refused(ap.Addr()) {
		return fmt.Errorf("%w: %s is not a public address", ErrURL, ap.Addr())
	}
	return nil
}

// NewClient returns the HTTP client that delivers webhooks: no proxy from
// the environment, no redirects followed (a 3xx is a failure), a timeout,
// and unless allowPrivate a dialer that refuses Refused addresses.
func NewClient(allowPrivate bool, timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: timeout}
	if !allowPrivate {
		d.Control = dialControl
	}
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         d.DialContext,
		TLSHandshakeTimeout: timeout,
		MaxIdleConns:        16,
		IdleConnTimeout:     90 * time.Second,
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Sign returns Atlas's X-MMS-Signature of body: base64 of its HMAC-SHA1
// keyed with the webhook secret.
func Sign(body, secret []byte) string {
	m := hmac.New(sha1.New, secret)
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Verify reports whether sig is body's signature with secret, in constant time.
func Verify(body, secret []byte, sig string) bool {
	want := Sign(body, secret)
	return hmac.Equal([]byte(want), []byte(sig))
}
