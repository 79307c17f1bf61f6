package outbound

import (
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/routing"
)

// FuzzRuleCategories checks that a trigger reads nothing beyond the categories it
// declares: for any expression routing accepts, evaluating it with every category
// granted and with only the declared ones (and the other facts changed at will) gives
// the same verdict. A name the scan missed would make them differ.
func FuzzRuleCategories(f *testing.F) {
	for _, s := range []string{
		`mortgage >= 3`, `task.tier == "gold"`, `region == "north" or mortgage > 1`, `not task.anonymous`,
		`task.topics contains "loans" and language == "pt"`, `task.tier == "x\"region"`, `'a' == task.region`,
		`Mortgage>=1 and(task.language=="en"or cards<2)`, `home-loans >= 1`, `task.Anonymous != true`,
	} {
		f.Add(s, "gold", "north", "pt", "mortgage", uint8(3), false)
	}
	f.Fuzz(func(t *testing.T, when, tier, region, language, topic string, n uint8, anonymous bool) {
		cats := categoriesOf(when) // must not panic on any text
		if len(cats) == 0 || cats[0] != CategoryContact {
			t.Fatalf("%q: categories %v", when, cats)
		}
		if _, err := routing.ParseExpr(when); err != nil {
			return
		}
		r, err := CompileRule(RuleConfig{Name: "f", When: when, Reason: "r", Agent: "@a:b"})
		if err != nil {
			return
		}
		now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		var views []TopicView
		for i := range int(n % 8) {
			views = append(views, TopicView{Topic: topic, At: now.Add(-time.Duration(i) * time.Minute)})
		}
		all := Facts{Now: now, Tier: tier, Region: region, Language: language, Anonymous: anonymous, Views: views,
			Standing: map[string]bool{"contact": true, "identity": true, "account": true, "location": true, "browsing": true}}
		declared := Facts{Now: now, Standing: map[string]bool{}, Anonymous: true}
		for _, c := range r.Categories() {
			declared.Standing[c] = true
			switch c {
			case CategoryAccount:
				declared.Tier = tier
			case CategoryLocation:
				declared.Region, declared.Language = region, language
			case CategoryIdentity:
				declared.Anonymous = anonymous
			case CategoryBrowsing:
				declared.Views = views
			}
		}
		if a, b := r.Evaluate(all), r.Evaluate(declared); a.Fire != b.Fire || len(b.Missing) > 0 {
			t.Fatalf("%q (categories %v): with everything %+v, with the declared %+v", when, r.Categories(), a, b)
		}
	})
}
