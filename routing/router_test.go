package routing

import (
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func agentNamed(name string, skills map[string]int, langs, regions []string) Staff {
	return Staff{UserID: "@" + strings.ToLower(name) + ":bank.example", Name: name, Role: RoleAgent,
		Skills: skills, Languages: langs, Regions: regions}
}

func uid(name string) string { return "@" + strings.ToLower(name) + ":bank.example" }

// newTestRouter makes a router whose agents became ready in the order given, a
// second apart, from t0.
func newTestRouter(t *testing.T, doc string, staff []Staff, ready ...string) *Router {
	t.Helper()
	var w *Workflow
	if doc != "" {
		w = readWorkflow(t, doc)
	}
	r, err := NewRouter(w, staff)
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range ready {
		must(t, r.SetStatus(uid(name), Ready, at(time.Duration(i)*time.Second)))
	}
	return r
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// selects checks who a step selects ("" for nobody).
func selects(t *testing.T, r *Router, task *Task, step int, now time.Time, want string) Decision {
	t.Helper()
	d, ok := r.Select(task, step, now)
	if got := d.Name; !ok && got != "" || ok != (want != "") || got != want {
		t.Errorf("step %d selected %q (%v), want %q", step+1, got, ok, want)
	}
	return d
}

var team = []Staff{
	agentNamed("Ann", map[string]int{"mortgage": 2}, []string{"en"}, []string{"north"}),
	agentNamed("Bob", map[string]int{"mortgage": 4, "cards": 1}, []string{"en", "pt"}, []string{"south"}),
	agentNamed("Cid", map[string]int{"cards": 5}, []string{"pt"}, []string{"north"}),
	{UserID: "@sam:bank.example", Name: "Sam", Role: RoleSupervisor},
}

func TestAvailability(t *testing.T) {
	r := newTestRouter(t, "", team, "Ann", "Bob", "Cid")
	task := &Task{ID: "t1"}
	now := at(time.Minute)
	selects(t, r, task, 0, now, "Ann") // longest idle
	for _, st := range []Status{Busy, Away, Offline} {
		must(t, r.SetStatus(uid("Ann"), st, now))
		selects(t, r, task, 0, now, "Bob")
	}
	must(t, r.SetStatus(uid("Ann"), Ready, now))
	selects(t, r, task, 0, now, "Bob") // Ann is idle only since now
	if r.ReadyAgents() != 3 {
		t.Errorf("ready agents: %d", r.ReadyAgents())
	}
	if _, known := r.Agent("@sam:bank.example"); known {
		t.Error("a supervisor is routed to")
	}
	if err := r.SetStatus("@nobody:bank.example", Ready, now); err == nil {
		t.Error("unknown agent accepted")
	}
	if err := r.SetStatus(uid("Ann"), "lunch", now); err == nil {
		t.Error("unknown status accepted")
	}
	must(t, r.RemoveAgent(uid("Bob")))
	selects(t, r, task, 0, now, "Cid")
	if r.ReadyAgents() != 2 {
		t.Errorf("ready agents after removal: %d", r.ReadyAgents())
	}
}

func TestCapacity(t *testing.T) {
	staff := []Staff{agentNamed("Ann", nil, nil, nil), agentNamed("Bob", nil, nil, nil)}
	staff[0].Capacity = 1
	r := newTestRouter(t, "", staff, "Ann", "Bob")
	task := &Task{ID: "t1"}
	must(t, r.Assigned(uid("Ann"), at(time.Second)))
	selects(t, r, task, 0, at(time.Minute), "Bob")
	must(t, r.Assigned(uid("Bob"), at(time.Minute)))
	must(t, r.Assigned(uid("Bob"), at(time.Minute)))
	must(t, r.Assigned(uid("Bob"), at(time.Minute))) // Bob full at the default 3
	selects(t, r, task, 0, at(time.Minute), "")
	must(t, r.Released(uid("Bob"), at(2*time.Minute)))
	selects(t, r, task, 0, at(2*time.Minute), "Bob")
	must(t, r.SetLoad(uid("Bob"), 3, at(2*time.Minute)))
	must(t, r.SetLoad(uid("Ann"), 0, at(2*time.Minute)))
	selects(t, r, task, 0, at(2*time.Minute), "Ann")
	if err := r.SetLoad(uid("Ann"), -1, at(2*time.Minute)); err == nil {
		t.Error("negative load accepted")
	}
}

func TestWrapUp(t *testing.T) {
	staff := []Staff{agentNamed("Ann", nil, nil, nil), agentNamed("Bob", nil, nil, nil)}
	staff[0].WrapUp = Duration(30 * time.Second)
	r := newTestRouter(t, "", staff, "Ann", "Bob")
	task := &Task{ID: "t1"}
	must(t, r.Assigned(uid("Ann"), at(time.Minute)))
	must(t, r.Assigned(uid("Bob"), at(time.Minute)))
	must(t, r.Released(uid("Ann"), at(2*time.Minute))) // wrap-up to 2:30
	must(t, r.Released(uid("Bob"), at(2*time.Minute+time.Second)))
	selects(t, r, task, 0, at(2*time.Minute+29*time.Second), "Bob")
	if s, _ := r.Agent(uid("Ann")); !s.WrapUpUntil.Equal(at(150*time.Second)) || s.Available {
		t.Errorf("Ann: %+v", s)
	}
	// Once the wrap-up is over Ann is back, idle since it ended (2:30), after Bob (2:01).
	selects(t, r, task, 0, at(2*time.Minute+30*time.Second), "Bob")
	must(t, r.SetStatus(uid("Bob"), Away, at(3*time.Minute)))
	d := selects(t, r, task, 0, at(3*time.Minute), "Ann")
	if !strings.Contains(d.Explanation, "longest idle (30 s)") {
		t.Errorf("explanation: %s", d.Explanation)
	}
	// A second release restarts the wrap-up; the first end no longer frees her.
	must(t, r.Released(uid("Ann"), at(4*time.Minute)))
	must(t, r.Released(uid("Ann"), at(4*time.Minute+20*time.Second)))
	selects(t, r, task, 0, at(4*time.Minute+40*time.Second), "")
	selects(t, r, task, 0, at(4*time.Minute+50*time.Second), "Ann")
}

const amWorkflow = `
steps:
  - account_manager: true
    timeout: 30s
  - expression: 'mortgage >= 3'
    timeout: 1m
    strategy: least_busy
  - queue: support
`

func TestAccountManagerThenFallback(t *testing.T) {
	r := newTestRouter(t, amWorkflow, team, "Ann", "Bob", "Cid")
	task := &Task{ID: "t1", AccountManager: uid("Cid"), EnqueuedAt: at(time.Minute)}
	now := at(5 * time.Minute)
	if step, left := r.StepFor(task, now.Sub(task.EnqueuedAt)); step != 2 || left != 0 {
		t.Errorf("StepFor after 4 min: %d %s", step, left)
	}
	step, left := r.StepFor(task, 0)
	if step != 0 || left != 30*time.Second {
		t.Fatalf("StepFor at once: %d %s", step, left)
	}
	d := selects(t, r, task, step, now, "Cid")
	if want := "Routed to Cid: account manager, ready, idle 4 min — step 1 of 3"; d.Explanation != want {
		t.Errorf("explanation:\n got %s\nwant %s", d.Explanation, want)
	}
	// The account manager is busy: step 1 finds nobody; after its timeout, step 2.
	must(t, r.SetStatus(uid("Cid"), Busy, now))
	selects(t, r, task, 0, now, "")
	step, _ = r.StepFor(task, 30*time.Second)
	d = selects(t, r, task, step, now, "Bob")
	if want := "Routed to Bob: mortgage 4 ≥ 3, least busy (0 of 3) — step 2 of 3"; d.Explanation != want {
		t.Errorf("explanation:\n got %s\nwant %s", d.Explanation, want)
	}
	// An anonymous task, or one whose account manager is not staff, skips step 1.
	for _, other := range []*Task{{ID: "t2", AccountManager: uid("Cid"), Anonymous: true}, {ID: "t3", AccountManager: "@zed:bank.example"}} {
		if step, _ := r.StepFor(other, 0); step != 1 {
			t.Errorf("%s: StepFor %d, want 1", other.ID, step)
		}
		must(t, r.SetStatus(uid("Cid"), Ready, now))
		selects(t, r, other, 0, now, "")
	}
	d = selects(t, r, task, 2, now, "Ann")
	if !strings.HasPrefix(d.Explanation, "Routed to Ann: queue support, longest idle") {
		t.Errorf("explanation: %s", d.Explanation)
	}
}

func TestExpressionTargets(t *testing.T) {
	doc := func(expr string) string {
		return "steps:\n  - expression: '" + expr + "'\n    timeout: 1m\n  - queue: all\n"
	}
	cases := []struct {
		name, expr string
		task       Task
		want       string
	}{
		{"skill", `mortgage >= 3`, Task{}, "Bob"},
		{"skill nobody has enough of", `mortgage >= 5`, Task{}, ""},
		{"unknown skill is 0", `chess < 1`, Task{}, "Ann"},
		{"language of the task", `language == task.language`, Task{Language: "pt"}, "Bob"},
		{"language unknown", `language == task.language`, Task{}, ""},
		{"region of the task", `region == task.region`, Task{Region: "north"}, "Ann"},
		{"region elsewhere", `region == task.region`, Task{Region: "east"}, ""},
		{"skill or region", `cards >= 5 or region == task.region`, Task{Region: "south"}, "Bob"},
		{"topics", `task.topics contains "cards" and cards >= 1 or mortgage >= 5`, Task{Topics: []string{"cards"}}, "Bob"},
		{"topics other", `task.topics contains "cards" and cards >= 5 or mortgage >= 4`, Task{Topics: []string{"loans"}}, "Bob"},
		{"topics unknown", `task.topics contains "cards" and cards >= 5`, Task{}, ""},
		{"anonymous tasks to native speakers only", `task.anonymous and language == "pt" and not (language == "en")`, Task{Anonymous: true}, "Cid"},
		{"not anonymous", `task.anonymous and language == "pt"`, Task{}, ""},
		{"task-only true is everyone", `task.tier == "gold"`, Task{Tier: "gold"}, "Ann"},
		{"task-only false is nobody", `task.tier == "gold"`, Task{Tier: "bronze"}, ""},
	}
	for _, c := range cases {
		r := newTestRouter(t, doc(c.expr), team, "Ann", "Bob", "Cid")
		c.task.ID = "t"
		d, ok := r.Select(&c.task, 0, at(time.Minute))
		if d.Name != c.want || ok != (c.want != "") {
			t.Errorf("%s: %s selected %q, want %q", c.name, c.expr, d.Name, c.want)
		}
	}
}

func TestStrategies(t *testing.T) {
	staff := []Staff{agentNamed("Ann", nil, nil, nil), agentNamed("Bob", nil, nil, nil), agentNamed("Cid", nil, nil, nil)}
	steps := func(strategy string) string { return "steps: [{queue: q, strategy: " + strategy + "}]" }
	task := &Task{ID: "t"}

	// Longest idle: the oldest routing event first; an assignment resets it.
	r := newTestRouter(t, steps("longest_idle"), staff, "Ann", "Bob", "Cid")
	selects(t, r, task, 0, at(time.Minute), "Ann")
	must(t, r.Assigned(uid("Ann"), at(time.Minute)))
	selects(t, r, task, 0, at(time.Minute), "Bob")
	must(t, r.Released(uid("Ann"), at(2*time.Minute)))
	selects(t, r, task, 0, at(2*time.Minute), "Bob")

	// Least busy: the smallest share of capacity, then longest idle.
	staff[2].Capacity = 4
	r = newTestRouter(t, steps("least_busy"), staff, "Ann", "Bob", "Cid")
	must(t, r.SetLoad(uid("Ann"), 2, t0))
	must(t, r.SetLoad(uid("Bob"), 1, t0))
	must(t, r.SetLoad(uid("Cid"), 2, t0)) // 2 of 4 < 2 of 3
	d := selects(t, r, task, 0, at(time.Minute), "Bob")
	if !strings.Contains(d.Explanation, "least busy (1 of 3)") {
		t.Errorf("explanation: %s", d.Explanation)
	}
	must(t, r.Assigned(uid("Bob"), at(time.Minute)))
	selects(t, r, task, 0, at(time.Minute), "Cid")
	must(t, r.SetLoad(uid("Cid"), 3, at(time.Minute))) // 3 of 4 > 2 of 3, and Ann idle longer than Bob
	selects(t, r, task, 0, at(time.Minute), "Ann")

	// Round robin: the least recently assigned, whoever was idle longer.
	r = newTestRouter(t, steps("round_robin"), staff, "Cid", "Bob", "Ann")
	d = selects(t, r, task, 0, at(time.Minute), "Ann") // never assigned: staff order
	if !strings.Contains(d.Explanation, "next in turn (not assigned yet)") {
		t.Errorf("explanation: %s", d.Explanation)
	}
	for i, name := range []string{"Ann", "Bob", "Cid", "Ann", "Bob"} {
		now := at(time.Duration(i+1) * time.Minute)
		selects(t, r, task, 0, now, name)
		must(t, r.Assigned(uid(name), now))
		must(t, r.Released(uid(name), now.Add(time.Second))) // released at once: idle again
	}
	d = selects(t, r, task, 0, at(10*time.Minute), "Cid")
	if !strings.Contains(d.Explanation, "next in turn (last assigned 7 min ago)") {
		t.Errorf("explanation: %s", d.Explanation)
	}
}

func TestOffersAndExclusions(t *testing.T) {
	r := newTestRouter(t, "", team, "Ann", "Bob", "Cid")
	t1, t2 := &Task{ID: "t1"}, &Task{ID: "t2"}
	now := at(time.Minute)
	must(t, r.SyncOffer(uid("Ann"), "t1", now))
	selects(t, r, t1, 0, now, "Bob") // Ann holds an offer
	selects(t, r, t2, 0, now, "Bob")
	// Ann declines t1: no offer held, and not again for t1.
	must(t, r.SyncOffer(uid("Ann"), "", now))
	must(t, r.Exclude("t1", uid("Ann")))
	selects(t, r, t1, 0, now, "Bob")
	selects(t, r, t2, 0, now, "Ann")
	must(t, r.Exclude("t1", uid("Bob")))
	selects(t, r, t1, 0, now, "Cid")
	must(t, r.Exclude("t1", uid("Cid")))
	selects(t, r, t1, 0, now, "")
	r.Forget("t1")
	selects(t, r, t1, 0, now, "Ann")
	must(t, r.SyncOffer(uid("Ann"), "t1", now))
	must(t, r.SyncOffer(uid("Ann"), "", now)) // accepted
	must(t, r.Assigned(uid("Ann"), now))
	if s, _ := r.Agent(uid("Ann")); s.Load != 1 || s.Offered || !s.LastAssigned.Equal(now) {
		t.Errorf("accepted: %+v", s)
	}
	if err := r.SyncOffer("@nobody:bank.example", "t1", now); err == nil {
		t.Error("an offer to someone who is not an agent accepted")
	}
}

func TestRONA(t *testing.T) {
	for _, tc := range []struct {
		after, missed int
		away          bool
	}{{2, 1, false}, {2, 2, true}, {2, 3, true}, {1, 1, true}, {0, 5, false}} {
		w := &Workflow{RONAAfter: tc.after}
		if got := w.SetsAway(tc.missed); got != tc.away {
			t.Errorf("rona_after %d, %d missed in a row: away %v", tc.after, tc.missed, got)
		}
	}
}

func TestAgentUpdate(t *testing.T) {
	r := newTestRouter(t, "steps: [{expression: 'cards >= 3 and language == task.language'}]", team, "Ann", "Bob", "Cid")
	task := &Task{ID: "t", Language: "pt"}
	selects(t, r, task, 0, at(time.Minute), "Cid")
	bob := team[1]
	bob.Skills = map[string]int{"cards": 4}
	must(t, r.AddAgent(bob)) // Bob trained: now in the pool
	selects(t, r, task, 0, at(time.Minute), "Bob")
	must(t, r.AddAgent(agentNamed("Dee", map[string]int{"cards": 5}, []string{"pt"}, nil)))
	must(t, r.SetStatus(uid("Bob"), Away, at(time.Minute)))
	must(t, r.SetStatus(uid("Dee"), Ready, at(time.Minute)))
	selects(t, r, task, 0, at(time.Minute), "Cid")
	must(t, r.SetStatus(uid("Cid"), Away, at(time.Minute)))
	selects(t, r, task, 0, at(time.Minute), "Dee")
	if err := r.AddAgent(Staff{UserID: "@sam:bank.example", Role: RoleSupervisor}); err == nil {
		t.Error("a supervisor added as an agent")
	}
	if _, err := NewRouter(nil, []Staff{team[0], team[0]}); err == nil {
		t.Error("an agent listed twice accepted")
	}
}

func TestStepForSkipsStepsTheTaskCannotMatch(t *testing.T) {
	w := &Workflow{Steps: []Step{
		{Expression: mustExpr(t, `task.topics contains "mortgage" and mortgage >= 3`), Timeout: time.Minute},
		{Queue: "everyone"},
	}, OfferTimeout: DefaultOfferTimeout, RONAAfter: DefaultRONAAfter}
	r, err := NewRouter(w, []Staff{{UserID: "@a:x", Name: "A", Role: RoleAgent, Skills: map[string]int{"mortgage": 4}}})
	if err != nil {
		t.Fatal(err)
	}
	if step, _ := r.StepFor(&Task{ID: "1"}, 0); step != 1 {
		t.Fatalf("a task without topics waits on the topic step (step %d)", step)
	}
	if step, left := r.StepFor(&Task{ID: "2", Topics: []string{"mortgage"}}, 10*time.Second); step != 0 || left != 50*time.Second {
		t.Fatalf("a mortgage task: step %d, %s left", step, left)
	}
}

func mustExpr(t *testing.T, src string) *Expr {
	t.Helper()
	e, err := ParseExpr(src)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// A routing pass passes over agents it claimed but has not committed, and those the
// database says declined, without the router keeping either.
func TestSelectExcept(t *testing.T) {
	r := newTestRouter(t, "", team, "Ann", "Bob", "Cid")
	task := &Task{ID: "t1"}
	now := at(time.Minute)
	if d, ok := r.SelectExcept(task, 0, now, []string{uid("Ann"), "@stranger:bank.example"}); !ok || d.Name != "Bob" {
		t.Errorf("selected %q (%v), want Bob", d.Name, ok)
	}
	must(t, r.Exclude(task.ID, uid("Bob")))
	if d, ok := r.SelectExcept(task, 0, now, []string{uid("Ann")}); !ok || d.Name != "Cid" {
		t.Errorf("selected %q (%v), want Cid: the router's own exclusions count too", d.Name, ok)
	}
	if _, ok := r.SelectExcept(task, 0, now, []string{uid("Ann"), uid("Cid")}); ok {
		t.Error("selected someone with every agent passed over")
	}
	selects(t, r, task, 0, now, "Ann") // nothing of except was kept
}
