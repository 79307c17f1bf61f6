package routing

import (
	"strings"
	"testing"
)

var (
	carol = Staff{UserID: "@carol:bank.example", Name: "Carol", Role: RoleAgent,
		Skills: map[string]int{"mortgage": 4, "Cards": 2}, Languages: []string{"en", "PT"}, Regions: []string{"north"}}
	dave = Staff{UserID: "@dave:bank.example", Name: "Dave", Role: RoleAgent,
		Skills: map[string]int{"cards": 5}, Languages: []string{"en"}, Regions: []string{"south"}}
)

func TestExprMatch(t *testing.T) {
	gold := Task{Tier: "Gold", Region: "north", Language: "pt", Topics: []string{"Mortgage", "savings"}}
	unknown := Task{}
	anon := Task{Anonymous: true, Language: "en"}
	cases := []struct {
		expr  string
		staff Staff
		task  Task
		want  bool
	}{
		{`mortgage >= 3`, carol, unknown, true},
		{`mortgage >= 3`, dave, unknown, false}, // absent skill is 0
		{`mortgage < 1`, dave, unknown, true},
		{`3 <= mortgage`, carol, unknown, true},
		{`cards == 2`, carol, unknown, true}, // skill names without case
		{`cards > mortgage`, dave, unknown, true},
		{`mortgage >= 3 and language == "pt"`, carol, unknown, true},
		{`mortgage >= 3 and language == "pt"`, dave, unknown, false},
		{`language != "pt"`, dave, unknown, true},
		{`language contains "en"`, dave, unknown, true},
		{`"en" == language`, dave, unknown, true},
		{`region == task.region`, carol, gold, true},
		{`region == task.region`, dave, gold, false},
		{`region != task.region`, dave, gold, true},
		{`region == task.region`, carol, unknown, false},
		{`region != task.region`, dave, unknown, false}, // unknown is not a mismatch either
		{`cards >= 2 or region == task.region`, dave, unknown, true},
		{`cards >= 3 or region == task.region`, carol, unknown, false},
		{`language == task.language`, carol, gold, true},
		{`task.tier == "gold"`, dave, gold, true},
		{`task.tier == "GOLD"`, dave, gold, true},
		{`task.tier != "gold"`, dave, gold, false},
		{`not (task.tier == "gold")`, dave, gold, false},
		{`not (task.tier == "gold")`, dave, unknown, false}, // unknown stays unknown under not
		{`not (task.tier == "gold") or cards >= 5`, dave, unknown, true},
		{`not not (task.tier == "gold")`, dave, gold, true},
		{`not (mortgage >= 3 and task.tier == "gold")`, dave, unknown, true}, // decided by the agent
		{`not (mortgage >= 3 and task.tier == "gold")`, carol, unknown, false},
		{`task.topics contains "mortgage"`, dave, gold, true},
		{`task.topics contains "loans"`, dave, gold, false},
		{`not (task.topics contains "loans")`, dave, gold, true},
		{`task.topics contains "mortgage"`, dave, unknown, false},
		{`not (task.topics contains "mortgage")`, dave, unknown, false},
		{`task.topics contains task.region`, dave, Task{Region: "north", Topics: []string{"north"}}, true},
		{`task.anonymous`, dave, anon, true},
		{`task.anonymous`, dave, unknown, false},
		{`not task.anonymous`, dave, unknown, true},
		{`task.anonymous == false and language == task.language`, dave, anon, false},
		{`(mortgage >= 3 or cards >= 5) and (language == "en")`, dave, unknown, true},
		{`MORTGAGE >= 3 AND Language == 'pt'`, carol, unknown, true},
		{`1 < 2`, dave, unknown, true},
		{`true`, dave, unknown, true},
		{`false or cards == 5`, dave, unknown, true},
	}
	for _, c := range cases {
		e, err := ParseExpr(c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		if got := e.Match(&c.staff, &c.task); got != c.want {
			t.Errorf("%s for %s and %+v: got %v, want %v", c.expr, c.staff.Name, c.task, got, c.want)
		}
	}
}

func TestExprErrors(t *testing.T) {
	cases := []struct{ expr, want string }{
		{``, "column 1: expected a value"},
		{`mortgage >=`, "column 12: expected a value after >="},
		{`mortgage >= 3 and language == `, `column 31: expected a value after ==`},
		{`mortgage >= and`, `column 13: expected a value after >=, found "and"`},
		{`mortgage`, "column 1: mortgage is a number, not a condition"},
		{`language == 3`, `column 10: cannot compare language (the agent's list) with 3 (a number)`},
		{`mortgage == "pt"`, `column 10: cannot compare mortgage (a number) with "pt" (text)`},
		{`task.tier > "a"`, "column 11: > compares numbers; task.tier is text"},
		{`language == region`, "cannot compare language"},
		{`task.topics == "a"`, "column 13: task.topics is a list: use task.topics contains"},
		{`mortgage contains "a"`, "column 10: contains needs language, region or task.topics on its left"},
		{`task.topics contains 3`, "column 22: contains needs text on its right"},
		{`task.colour == "red"`, "column 1: unknown task attribute task.colour"},
		{`task == 1`, "column 1: task needs an attribute"},
		{`(mortgage >= 3`, "column 15: expected ) to close the ( at column 1, found the end"},
		{`mortgage >= 3)`, `column 14: ")" without a matching "("`},
		{`mortgage >= 3 cards`, `column 15: expected and, or or the end, found "cards"`},
		{`mortgage >= 3 >= 2`, `column 15: expected and, or or the end, found ">="`},
		{`mortgage = 3`, `column 10: unknown operator "="`},
		{`mortgage >= 3 and`, "column 18: expected a condition after and"},
		{`not`, "column 4: expected a condition after not"},
		{`language == "pt`, "column 13: string is not closed"},
		{`language == "p\t"`, `column 15: unknown escape`},
		{`mortgage >= 3 # note`, "column 15: unexpected character '#'"},
		{`mortgage >= 99999999999999999999`, "column 13: number 99999999999999999999 is too large"},
		{`mortgage >= 3x`, `column 13: "3x" is neither a number nor a name`},
		{`größe >= 1`, "column 3: unexpected character 'ö'"},
		{strings.Repeat("(", 60) + "true" + strings.Repeat(")", 60), "nested more than 50 deep"},
		{strings.Repeat("not ", 60) + "true", "nested more than 50 deep"},
	}
	for _, c := range cases {
		_, err := ParseExpr(c.expr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.expr, err, c.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "expression: column ") {
			t.Errorf("%q: error %q does not start with the column", c.expr, err)
		}
	}
}

func TestExprSpecialiseShares(t *testing.T) {
	// Tasks that leave the same expression share a pool: the canonical form is the key.
	e, err := ParseExpr(`mortgage >= 3 and (language == task.language or task.tier == "gold")`)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		task Task
		want string
	}{
		{Task{Language: "PT"}, `mortgage >= 3 and language == "pt"`},
		{Task{Language: "pt", Tier: "silver"}, `mortgage >= 3 and language == "pt"`},
		{Task{Tier: "gold"}, `mortgage >= 3`},
		{Task{}, `false`},
	}
	for _, c := range cases {
		got := strings.Trim(renderNode(e.specialise(&c.task)), "()")
		if got != c.want {
			t.Errorf("%+v: got %s, want %s", c.task, got, c.want)
		}
	}
	if !e.UsesAgent() || !e.UsesTask() {
		t.Error("uses: want agent and task")
	}
}

func TestExprExplain(t *testing.T) {
	e, _ := ParseExpr(`(mortgage >= 3 or cards >= 5) and language == task.language and not (region == "south")`)
	got := strings.Join(e.specialise(&Task{Language: "pt"}).explain(newAgentAttrs(&carol), nil), ", ")
	if want := "mortgage 4 ≥ 3, language pt, region not south"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func FuzzParseExpr(f *testing.F) {
	for _, seed := range []string{
		`mortgage >= 3 and language == "pt"`, `cards >= 2 or region == task.region`,
		`not (task.tier == "gold")`, `task.topics contains "mortgage"`, `task.anonymous`,
		`(a < b) or not c != 3`, `"x" == 'y'`, `language == "p\"t"`, `((((`, `not not not`,
		`task.`, `a >= 99999`, `ü`, "\x00", `task.topics contains task.language and 1 > 2`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := ParseExpr(src)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "expression: column ") {
				t.Fatalf("%q: error without a column: %v", src, err)
			}
			return
		}
		// Whatever parses must evaluate and specialise without trouble, and the
		// canonical form of the specialised expression must be stable.
		tasks := []Task{{}, {Tier: "gold", Region: "north", Language: "pt", Topics: []string{"mortgage"}, Anonymous: true}}
		for _, task := range tasks {
			_ = e.Match(&carol, &task)
			s := e.specialise(&task)
			if renderNode(s) != renderNode(e.specialise(&task)) {
				t.Fatalf("%q: unstable canonical form", src)
			}
			_ = s.explain(newAgentAttrs(&dave), nil)
		}
	})
}
