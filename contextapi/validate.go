package contextapi

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Field limits. Text limits count characters, identifier limits bytes.
const (
	maxAccountIDLen  = 128
	maxNameLen       = 200
	maxTierLen       = 64
	maxProductLen    = 100
	maxProducts      = 100
	maxMatrixIDs     = 50
	maxMatrixIDLen   = 255 // the Matrix spec's limit for a user ID
	maxURLLen        = 2048
	maxTitleLen      = 500
	maxViewsPerBatch = 100
)

// checkAccountID allows what tenants' CRMs use as IDs (numbers, UUIDs, e-mail
// addresses, "ACME:1234") but no spaces, slashes or percent signs, so that an ID is
// one path segment as it is.
func checkAccountID(s string) error {
	if s == "" {
		return fmt.Errorf("is required")
	}
	if len(s) > maxAccountIDLen {
		return fmt.Errorf("is %d bytes long, the limit is %d", len(s), maxAccountIDLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && !strings.ContainsRune("._~:@+=-", rune(c)) {
			return fmt.Errorf("holds %q; allowed are letters, digits and . _ ~ : @ + = -", rune(c))
		}
	}
	return nil
}

// checkText allows any printable text up to max characters.
func checkText(s string, max int) error {
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Errorf("is %d characters long, the limit is %d", n, max)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return fmt.Errorf("holds the control or invalid character %U", r)
		}
	}
	return nil
}

// checkMatrixUserID checks @localpart:server_name. The localpart may use the
// historical grammar (any printable ASCII but ':'), since customers on other
// homeservers may have old IDs; the server name is a host name, an IPv4 address or a
// bracketed IPv6 address, with an optional port.
func checkMatrixUserID(s string) error {
	if len(s) > maxMatrixIDLen {
		return fmt.Errorf("is %d bytes long, the limit for a Matrix ID is %d", len(s), maxMatrixIDLen)
	}
	rest, ok := strings.CutPrefix(s, "@")
	if !ok {
		return fmt.Errorf("%q is not a Matrix user ID: must start with @", s)
	}
	localpart, server, ok := strings.Cut(rest, ":")
	if !ok || localpart == "" {
		return fmt.Errorf("%q is not a Matrix user ID: must be @localpart:server", s)
	}
	for i := 0; i < len(localpart); i++ {
		if c := localpart[i]; c < 0x21 || c > 0x7e {
			return fmt.Errorf("%q is not a Matrix user ID: the localpart holds %q", s, rune(c))
		}
	}
	if err := checkServerName(server); err != nil {
		return fmt.Errorf("%q is not a Matrix user ID: %w", s, err)
	}
	return nil
}

func checkServerName(s string) error {
	host, port := s, ""
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return fmt.Errorf("unclosed [ in the server name")
		}
		host, port = s[:end+1], s[end+1:]
		addr, err := netip.ParseAddr(host[1 : len(host)-1])
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return fmt.Errorf("%q is not an IPv6 address", host)
		}
	} else {
		if i := strings.IndexByte(s, ':'); i >= 0 {
			host, port = s[:i], s[i:]
		}
		if host == "" || len(host) > 255 {
			return fmt.Errorf("the server name must be 1 to 255 characters")
		}
		for i := 0; i < len(host); i++ {
			if c := host[i]; !isAlnum(c) && c != '-' && c != '.' {
				return fmt.Errorf("the server name holds %q", rune(c))
			}
		}
	}
	if port == "" {
		return nil
	}
	digits, ok := strings.CutPrefix(port, ":")
	n, err := strconv.Atoi(digits)
	if !ok || err != nil || len(digits) > 5 || n < 1 || n > 65535 || digits[0] == '+' || digits[0] == '-' {
		return fmt.Errorf("%q is not a port", port)
	}
	return nil
}

// checkPageURL allows absolute http(s) URLs with a host. URLs with user info are
// refused: they may carry a password, which has no place in a context card.
func checkPageURL(s string) error {
	if s == "" {
		return fmt.Errorf("is required")
	}
	if len(s) > maxURLLen {
		return fmt.Errorf("is %d bytes long, the limit is %d", len(s), maxURLLen)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("is not a URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("must be an absolute http or https URL")
	}
	if u.User != nil {
		return fmt.Errorf("must not hold a user name or password")
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || unicode.IsControl(r) || unicode.IsSpace(r) {
			return fmt.Errorf("holds a space or control character; percent-encode it")
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
