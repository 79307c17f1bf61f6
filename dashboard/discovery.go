package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
)

// target is where a server name's federation API is reached: dial Addr, speak TLS for
// Host (the certificate must be valid for Host's name, and Host is the Host header).
type target struct {
	Addr string // host:port to connect to
	Host string // server name or delegated name, with its port if it has one
}

// splitServerName splits a server name into host and port (0: none) and checks its
// grammar: a DNS name, an IPv4 address or a bracketed IPv6 address, then an optional port.
func splitServerName(name string) (host string, port int, ok bool) {
	if name == "" || len(name) > 255 {
		return "", 0, false
	}
	host = name
	if strings.HasPrefix(name, "[") {
		end := strings.IndexByte(name, ']')
		if end < 0 {
			return "", 0, false
		}
		host = name[:end+1]
		if ip := net.ParseIP(name[1:end]); ip == nil || ip.To4() != nil {
			return "", 0, false
		}
		if rest := name[end+1:]; rest != "" {
			p, ok := parsePort(strings.TrimPrefix(rest, ":"), strings.HasPrefix(rest, ":"))
			return host, p, ok
		}
		return host, 0, true
	}
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		p, ok := parsePort(name[i+1:], true)
		if !ok {
			return "", 0, false
		}
		host, port = name[:i], p
	}
	if host == "" {
		return "", 0, false
	}
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return "", 0, false
		}
	}
	return host, port, true
}

func parsePort(s string, present bool) (int, bool) {
	if !present || s == "" || len(s) > 5 {
		return 0, false
	}
	p, err := strconv.Atoi(s)
	return p, err == nil && p > 0 && p < 65536 && s[0] != '+'
}

// isIPLiteral tells whether a host (as splitServerName returns it) is an IP address.
func isIPLiteral(host string) bool {
	return strings.HasPrefix(host, "[") || net.ParseIP(host) != nil
}

// resolveServer finds where a server name's federation API is, by the spec's server
// discovery: an IP literal or an explicit port is used as is; otherwise
// /.well-known/matrix/server may delegate to another name, then SRV records
// (_matrix-fed._tcp, then the older _matrix._tcp), then port 8448.
func (v *Verifier) resolveServer(ctx context.Context, serverName string) (target, error) {
	host, port, ok := splitServerName(serverName)
	if !ok {
		return target{}, errors.New("invalid server name")
	}
	if isIPLiteral(host) || port != 0 {
		if port == 0 {
			port = 8448
		}
		return target{Addr: net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(port)), Host: serverName}, nil
	}
	if delegated, err := v.wellKnown(ctx, host); err == nil && delegated != "" {
		dhost, dport, ok := splitServerName(delegated)
		if !ok {
			return target{}, fmt.Errorf("invalid delegated server name %q", delegated)
		}
		if isIPLiteral(dhost) || dport != 0 {
			if dport == 0 {
				dport = 8448
			}
			return target{Addr: net.JoinHostPort(strings.Trim(dhost, "[]"), strconv.Itoa(dport)), Host: delegated}, nil
		}
		return target{Addr: v.srvOr8448(ctx, dhost), Host: delegated}, nil
	}
	return target{Addr: v.srvOr8448(ctx, host), Host: serverName}, nil
}

// srvOr8448 is the first SRV target of host, or host:8448.
func (v *Verifier) srvOr8448(ctx context.Context, host string) string {
	for _, service := range []string{"matrix-fed", "matrix"} {
		_, records, err := net.DefaultResolver.LookupSRV(ctx, service, "tcp", host)
		if err == nil && len(records) > 0 && records[0].Target != "." {
			return net.JoinHostPort(strings.TrimSuffix(records[0].Target, "."), strconv.Itoa(int(records[0].Port)))
		}
	}
	return net.JoinHostPort(host, "8448")
}

// wellKnown reads https://host/.well-known/matrix/server and returns its "m.server".
func (v *Verifier) wellKnown(ctx context.Context, host string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+host+"/.well-known/matrix/server", nil)
	if err != nil {
		return "", err
	}
	resp, err := v.wkHTTP.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var wk struct {
		Server string `json:"m.server"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<10)).Decode(&wk); err != nil {
		return "", err
	}
	return wk.Server, nil
}

// dialControl refuses addresses the service must not be made to call: loopback,
// private, link-local and other non-public ones, unless allowPrivate.
func dialControl(allowPrivate bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		ip := net.ParseIP(host)
		if ip == nil {
			return fmt.Errorf("not an IP address: %q", host)
		}
		if ip.IsUnspecified() || ip.IsMulticast() {
			return fmt.Errorf("refusing to connect to %s", ip)
		}
		if !allowPrivate && (!ip.IsGlobalUnicast() || ip.IsPrivate()) {
			return fmt.Errorf("refusing to connect to the non-public address %s", ip)
		}
		return nil
	}
}

// targetKey carries a resolved target from a request to the dialer.
type targetKey struct{}
