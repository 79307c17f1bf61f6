package outbound

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/routing"
)

func rule(t testing.TB, when string) *Rule {
	t.Helper()
	r, err := CompileRule(RuleConfig{Name: "r", When: when, Reason: "why", Agent: "@carol:bank.example"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRuleCategories(t *testing.T) {
	cases := map[string][]string{
		`mortgage >= 3`:                                  {"contact", "browsing"},
		`task.topics contains "mortgage"`:                {"contact", "browsing"},
		`task.tier == "gold"`:                            {"contact", "account"},
		`TASK.Tier == "gold" and Mortgage > 1`:           {"contact", "account", "browsing"},
		`region == "north" or task.language == "pt"`:     {"contact", "location"},
		`language contains "pt"`:                         {"contact", "location"},
		`not task.anonymous`:                             {"contact", "identity"},
		`task.tier == "task.region and region mortgage"`: {"contact", "account"},
		`task.tier == 'it\'s region'`:                    {"contact", "account"},
		`home-loans >= 2 and task.region != "x"`:         {"contact", "browsing", "location"},
	}
	for when, want := range cases {
		if got := rule(t, when).Categories(); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", when, got, want)
		}
	}
}

func TestCompileRuleRefuses(t *testing.T) {
	good := RuleConfig{Name: "r", When: "mortgage >= 3", Reason: "why", Agent: "@carol:bank.example"}
	for name, mutate := range map[string]func(*RuleConfig){
		"no name":           func(c *RuleConfig) { c.Name = "" },
		"no reason":         func(c *RuleConfig) { c.Reason = " " },
		"bad agent":         func(c *RuleConfig) { c.Agent = "carol" },
		"syntax":            func(c *RuleConfig) { c.When = "mortgage >=" },
		"reads nothing":     func(c *RuleConfig) { c.When = "3 >= 2" },
		"unknown attribute": func(c *RuleConfig) { c.When = `task.income > 3` },
	} {
		c := good
		mutate(&c)
		if _, err := CompileRule(c); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.Contains(err.Error(), `"`+c.Name+`"`) {
			t.Errorf("%s: %v does not name the rule", name, err)
		}
	}
}

func TestRuleEvaluate(t *testing.T) {
	now := mustTime(t, "2026-03-10T12:00:00Z")
	all := map[string]bool{"contact": true, "browsing": true, "account": true, "location": true, "identity": true}
	views := func(ages ...time.Duration) []TopicView {
		var out []TopicView
		for _, a := range ages {
			out = append(out, TopicView{Topic: "Mortgage", At: now.Add(-a)})
		}
		return out
	}
	mortgage := rule(t, "mortgage >= 3")
	cases := []struct {
		name    string
		r       *Rule
		f       Facts
		fire    bool
		missing []string
		cool    bool
	}{
		{name: "three views today", r: mortgage, f: Facts{Standing: all, Views: views(time.Hour, 2*time.Hour, 20*time.Hour)}, fire: true},
		{name: "one of them yesterday", r: mortgage, f: Facts{Standing: all, Views: views(time.Hour, 2*time.Hour, 25*time.Hour)}},
		{name: "a view from the future does not count", r: mortgage, f: Facts{Standing: all, Views: views(time.Hour, 2*time.Hour, -time.Hour)}},
		{name: "without contact", r: mortgage, f: Facts{Standing: map[string]bool{"browsing": true}, Views: views(1, 2, 3)},
			missing: []string{"contact"}},
		{name: "without browsing", r: mortgage, f: Facts{Standing: map[string]bool{"contact": true}, Views: views(1, 2, 3)},
			missing: []string{"browsing"}},
		{name: "cooling down", r: mortgage,
			f: Facts{Standing: all, Views: views(1, 2, 3), LastProposed: now.Add(-24 * time.Hour)}, cool: true},
		{name: "cooled down", r: mortgage,
			f: Facts{Standing: all, Views: views(1, 2, 3), LastProposed: now.Add(-8 * 24 * time.Hour)}, fire: true},
		{name: "tier", r: rule(t, `task.tier == "gold" and task.topics contains "mortgage"`),
			f: Facts{Standing: all, Tier: "Gold", Views: views(time.Hour)}, fire: true},
		{name: "tier without account", r: rule(t, `task.tier == "gold"`),
			f: Facts{Standing: map[string]bool{"contact": true, "browsing": true}, Tier: "gold"}, missing: []string{"account"}},
		{name: "region", r: rule(t, `region == "north"`), f: Facts{Standing: all, Region: "North"}, fire: true},
		{name: "unknown region", r: rule(t, `not (task.region == "north")`), f: Facts{Standing: all}},
		{name: "identified", r: rule(t, `task.anonymous == false`), f: Facts{Standing: all, Anonymous: false}, fire: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.f.Now = now
			got := c.r.Evaluate(c.f)
			if got.Fire != c.fire || got.CoolingDown != c.cool || !slices.Equal(got.Missing, c.missing) {
				t.Errorf("%+v, want fire %v cool %v missing %v", got, c.fire, c.cool, c.missing)
			}
		})
	}
}

func TestRuleWithin(t *testing.T) {
	now := mustTime(t, "2026-03-10T12:00:00Z")
	r, err := CompileRule(RuleConfig{Name: "r", When: "mortgage >= 2", Reason: "why", Agent: "@a:b",
		Within: routing.Duration(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	f := Facts{Now: now, Standing: map[string]bool{"contact": true, "browsing": true},
		Views: []TopicView{{"mortgage", now.Add(-30 * time.Minute)}, {"mortgage", now.Add(-90 * time.Minute)}}}
	if r.Evaluate(f).Fire {
		t.Error("a view older than within counted")
	}
	f.Views[1].At = now.Add(-59 * time.Minute)
	if !r.Evaluate(f).Fire {
		t.Error("two views within the hour did not fire")
	}
}

func TestRuleSeen(t *testing.T) {
	now := mustTime(t, "2026-03-10T12:00:00Z")
	r := rule(t, `mortgage >= 3 or (cards >= 1 and task.tier == "gold")`)
	views := []TopicView{{"mortgage", now.Add(-time.Hour)}, {"Mortgage", now.Add(-2 * time.Hour)},
		{"mortgage", now.Add(-3 * time.Hour)}, {"cards", now.Add(-time.Hour)}, {"mortgage", now.Add(-30 * time.Hour)}}
	f := Facts{Now: now, Standing: map[string]bool{"contact": true, "browsing": true, "account": true}, Views: views}
	if got, want := r.Seen(f), "viewed mortgage pages 3 times, viewed cards pages 1 time within 24h"; got != want {
		t.Errorf("Seen: %q, want %q", got, want)
	}
	f.Standing["browsing"] = false
	if got := r.Seen(f); got != "" {
		t.Errorf("Seen without browsing: %q", got)
	}
}
