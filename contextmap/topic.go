package contextmap

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// TopicRule maps a tenant's pages to a topic:
//
//	topics:
//	  - pattern: /mortgages/*          # any host
//	    topic: mortgage
//	  - pattern: shop.example.com/cards
//	    topic: cards
//	  - pattern: "*.example.com/help/**"
//	    topic: support
//
// A pattern is an optional host and a path. The host matches exactly, or with a
// leading "*." any subdomain (not the bare domain). The path matches the leading
// segments of a page's path (a prefix, segment by segment: "/mortgages" matches
// "/mortgages/fixed" but not "/mortgages-old"); "*" is exactly one segment, so
// "/mortgages/*" needs a page below /mortgages; "**", allowed only last, is any
// suffix including none. Matching ignores case, the query and the fragment.
type TopicRule struct {
	Pattern string `yaml:"pattern"`
	Topic   string `yaml:"topic"`
}

var (
	topicRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	hostRe  = regexp.MustCompile(`^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)
)

// ValidateTopicRules checks a tenant's topic rules.
func ValidateTopicRules(rules []TopicRule) error {
	var errs []error
	for i, r := range rules {
		if _, err := compileTopicPattern(r.Pattern); err != nil {
			errs = append(errs, fmt.Errorf("topics[%d]: %w", i, err))
		}
		if !topicRe.MatchString(r.Topic) {
			errs = append(errs, fmt.Errorf("topics[%d]: topic %q must be 1-64 of a-z, 0-9, ., _ and -", i, r.Topic))
		}
	}
	return errors.Join(errs...)
}

type topicPattern struct {
	host     string   // "" for any host; "*.example.com" for subdomains
	segments []string // "*" matches one segment; a final "**" was dropped (prefix match)
}

func compileTopicPattern(pattern string) (topicPattern, error) {
	if pattern == "" {
		return topicPattern{}, errors.New("pattern is empty")
	}
	if strings.Contains(pattern, "://") {
		return topicPattern{}, fmt.Errorf("pattern %q: leave out the scheme, e.g. example.com/mortgages/*", pattern)
	}
	if strings.ContainsAny(pattern, "?#") {
		return topicPattern{}, fmt.Errorf("pattern %q: patterns match paths; leave out ? and #", pattern)
	}
	var p topicPattern
	path := pattern
	if !strings.HasPrefix(pattern, "/") {
		host, rest, _ := strings.Cut(pattern, "/")
		host = strings.ToLower(host)
		if !hostRe.MatchString(host) {
			return topicPattern{}, fmt.Errorf("pattern %q: host %q must be a domain name, optionally starting with *.", pattern, host)
		}
		p.host, path = host, "/"+rest
	}
	segments := pathSegments(path)
	for i, seg := range segments {
		switch {
		case seg == "**" && i != len(segments)-1:
			return topicPattern{}, fmt.Errorf("pattern %q: ** may only be the last segment", pattern)
		case seg != "*" && seg != "**" && strings.Contains(seg, "*"):
			return topicPattern{}, fmt.Errorf("pattern %q: segment %q: * stands for a whole segment, not part of one", pattern, seg)
		}
	}
	if n := len(segments); n > 0 && segments[n-1] == "**" {
		segments = segments[:n-1] // matching is by prefix already
	}
	p.segments = segments
	return p, nil
}

// pathSegments splits a path, dropping empty segments ("//", a trailing "/").
func pathSegments(path string) []string {
	return strings.FieldsFunc(path, func(r rune) bool { return r == '/' })
}

func (p topicPattern) matches(host string, segments []string) bool {
	switch {
	case p.host == "":
	case strings.HasPrefix(p.host, "*."):
		if !strings.HasSuffix(host, p.host[1:]) {
			return false
		}
	case host != p.host:
		return false
	}
	if len(segments) < len(p.segments) {
		return false
	}
	for i, want := range p.segments {
		if want != "*" && !strings.EqualFold(want, segments[i]) {
			return false
		}
	}
	return true
}

// Topics maps pages viewed, oldest first as they were viewed, to distinct topics,
// most recent page first. Each page takes the topic of the first rule, in config
// order, that matches it. Pages that are not absolute http(s) URLs or paths
// starting with "/", and rules that do not validate, are skipped.
func Topics(rules []TopicRule, urls []string) []string {
	type compiled struct {
		pattern topicPattern
		topic   string
	}
	var usable []compiled
	for _, r := range rules {
		if p, err := compileTopicPattern(r.Pattern); err == nil && topicRe.MatchString(r.Topic) {
			usable = append(usable, compiled{p, r.Topic})
		}
	}
	var topics []string
	seen := map[string]bool{}
	for i := len(urls) - 1; i >= 0; i-- {
		host, segments, ok := pageOf(urls[i])
		if !ok {
			continue
		}
		for _, c := range usable {
			if c.pattern.matches(host, segments) {
				if !seen[c.topic] {
					seen[c.topic] = true
					topics = append(topics, c.topic)
				}
				break
			}
		}
	}
	return topics
}

// pageOf reads a page URL into its host (lower case, no port) and path segments.
func pageOf(raw string) (host string, segments []string, ok bool) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", nil, false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host == "" {
			return "", nil, false
		}
	case "":
		if !strings.HasPrefix(u.Path, "/") {
			return "", nil, false
		}
	default:
		return "", nil, false
	}
	host = strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	return host, pathSegments(u.Path), true
}
