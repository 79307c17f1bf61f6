package contextmap

import (
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestTopicPatternMatches(t *testing.T) {
	tests := []struct {
		pattern, url string
		want         bool
	}{
		{"/mortgages/*", "https://bank.example/mortgages/fixed", true},
		{"/mortgages/*", "https://bank.example/mortgages/fixed/5-year", true},
		{"/mortgages/*", "https://bank.example/mortgages", false},
		{"/mortgages/*", "https://bank.example/mortgages/", false},
		{"/mortgages/*", "https://bank.example/mortgages-old/x", false},
		{"/mortgages", "https://bank.example/mortgages", true},
		{"/mortgages", "https://bank.example/mortgages/fixed", true},
		{"/mortgages", "https://bank.example/mortgage", false},
		{"/mortgages/**", "https://bank.example/mortgages", true},
		{"/mortgages/**", "https://bank.example/mortgages/a/b/c", true},
		{"/*/rates", "https://bank.example/loans/rates", true},
		{"/*/rates", "https://bank.example/loans/fees", false},
		{"/*/rates", "https://bank.example/rates", false},
		{"/Mortgages/*", "https://bank.example/mortgages/FIXED?x=1#top", true},
		{"/mortgages/*", "/mortgages/fixed", true},
		{"/mortgages/*", "//bank.example/mortgages/fixed", true},
		{"/mortgages/*", "https://bank.example//mortgages//fixed/", true},
		{"/mortgages/*", "https://bank.example/%6Dortgages/fixed", true}, // percent-decoded
		{"/", "https://bank.example/anything", true},
		{"/", "https://bank.example", true},
		{"bank.example/cards", "https://bank.example/cards/gold", true},
		{"bank.example/cards", "https://BANK.example:8443/cards", true},
		{"bank.example/cards", "https://bank.example./cards", true},
		{"bank.example/cards", "https://shop.bank.example/cards", false},
		{"bank.example/cards", "/cards", false},
		{"bank.example", "https://bank.example/", true},
		{"*.bank.example/help", "https://support.bank.example/help/x", true},
		{"*.bank.example/help", "https://a.b.bank.example/help", true},
		{"*.bank.example/help", "https://bank.example/help", false},
		{"*.bank.example/help", "https://evilbank.example/help", false},
		{"/mortgages/*", "ftp://bank.example/mortgages/x", false},
		{"/mortgages/*", "mortgages/x", false},
		{"/mortgages/*", "https:///mortgages/x", false},
		{"/mortgages/*", "javascript:alert(1)", false},
		{"/mortgages/*", "%zz", false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.url, func(t *testing.T) {
			got := Topics([]TopicRule{{Pattern: tt.pattern, Topic: "t"}}, []string{tt.url})
			if (len(got) == 1) != tt.want {
				t.Errorf("matched = %v, want %v", len(got) == 1, tt.want)
			}
		})
	}
}

func TestTopics(t *testing.T) {
	rules := []TopicRule{
		{Pattern: "/mortgages/calculator", Topic: "mortgage-calculator"},
		{Pattern: "/mortgages/*", Topic: "mortgage"},
		{Pattern: "/cards", Topic: "cards"},
		{Pattern: "/savings/**", Topic: "savings"},
		{Pattern: "/broken/mort*", Topic: "never"}, // invalid: skipped
	}
	tests := []struct {
		name string
		urls []string
		want []string
	}{
		{"none", nil, nil},
		{"no match", []string{"https://bank.example/about"}, nil},
		{"most recent first", []string{"https://bank.example/cards", "https://bank.example/mortgages/fixed"}, []string{"mortgage", "cards"}},
		{"distinct, newest place wins", []string{"/mortgages/a", "/cards", "/mortgages/b"}, []string{"mortgage", "cards"}},
		{"first rule wins per page", []string{"/mortgages/calculator"}, []string{"mortgage-calculator"}},
		{"invalid rule skipped", []string{"/broken/mortgage"}, nil},
		{"bad urls skipped", []string{"/savings", "not a url", "mailto:x@y", "/cards"}, []string{"cards", "savings"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Topics(rules, tt.urls); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Topics = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTopicRulesFromYAML(t *testing.T) {
	var rules []TopicRule
	err := yaml.Unmarshal([]byte(`
- pattern: /mortgages/*
  topic: mortgage
- pattern: "*.example.com/help/**"
  topic: support
`), &rules)
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidateTopicRules(rules); err != nil {
		t.Fatal(err)
	}
	if rules[1].Pattern != "*.example.com/help/**" || rules[1].Topic != "support" {
		t.Errorf("rules = %+v", rules)
	}
}

func TestValidateTopicRulesRejects(t *testing.T) {
	tests := []struct {
		rule TopicRule
		want string
	}{
		{TopicRule{Pattern: "", Topic: "t"}, "pattern is empty"},
		{TopicRule{Pattern: "https://bank.example/x", Topic: "t"}, "leave out the scheme"},
		{TopicRule{Pattern: "/x?y=1", Topic: "t"}, "leave out ? and #"},
		{TopicRule{Pattern: "/x#frag", Topic: "t"}, "leave out ? and #"},
		{TopicRule{Pattern: "/**/rates", Topic: "t"}, "only be the last"},
		{TopicRule{Pattern: "/mort*", Topic: "t"}, "whole segment"},
		{TopicRule{Pattern: "/a/*b", Topic: "t"}, "whole segment"},
		{TopicRule{Pattern: "bank example/x", Topic: "t"}, "domain name"},
		{TopicRule{Pattern: "bank.example:443/x", Topic: "t"}, "domain name"},
		{TopicRule{Pattern: "*/x", Topic: "t"}, "domain name"},
		{TopicRule{Pattern: "a.*.example/x", Topic: "t"}, "domain name"},
		{TopicRule{Pattern: "-bank.example/x", Topic: "t"}, "domain name"},
		{TopicRule{Pattern: "/x", Topic: ""}, "topic"},
		{TopicRule{Pattern: "/x", Topic: "Mortgage Loans"}, "topic"},
		{TopicRule{Pattern: "/x", Topic: strings.Repeat("a", 65)}, "topic"},
	}
	for _, tt := range tests {
		t.Run(tt.rule.Pattern+"→"+tt.rule.Topic, func(t *testing.T) {
			err := ValidateTopicRules([]TopicRule{tt.rule})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
			if err != nil && !strings.Contains(err.Error(), "topics[0]") {
				t.Errorf("err %v does not say which rule", err)
			}
		})
	}
	good := []TopicRule{
		{Pattern: "/", Topic: "home"},
		{Pattern: "/mortgages/*", Topic: "mortgage"},
		{Pattern: "/*/rates/**", Topic: "rates"},
		{Pattern: "Bank.Example/cards", Topic: "cards.gold_2"},
		{Pattern: "*.bank.example", Topic: "sub"},
	}
	if err := ValidateTopicRules(good); err != nil {
		t.Errorf("good rules: %v", err)
	}
}
