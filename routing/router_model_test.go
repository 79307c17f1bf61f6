package routing

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

const modelWorkflow = `
steps:
  - account_manager: true
    timeout: 10s
  - expression: 'mortgage >= 3 and language == task.language'
    timeout: 20s
    strategy: least_busy
  - expression: 'cards >= 2 or region == task.region or task.topics contains "vip"'
    timeout: 20s
    strategy: round_robin
  - expression: 'not (language == "fr")'
    timeout: 20s
  - queue: all
`

var (
	modelLanguages = []string{"en", "pt", "fr", "de"}
	modelRegions   = []string{"north", "south", "east"}
)

func randomStaff(rng *rand.Rand, i int) Staff {
	s := Staff{UserID: fmt.Sprintf("@a%d:bank.example", i), Name: fmt.Sprintf("A%d", i), Role: RoleAgent,
		Skills: map[string]int{}, Capacity: 1 + rng.IntN(4), WrapUp: Duration(time.Duration(rng.IntN(3)) * 10 * time.Second)}
	for _, skill := range []string{"mortgage", "cards"} {
		if rng.IntN(2) == 0 {
			s.Skills[skill] = 1 + rng.IntN(5)
		}
	}
	for _, l := range modelLanguages {
		if rng.IntN(2) == 0 {
			s.Languages = append(s.Languages, l)
		}
	}
	s.Regions = []string{modelRegions[rng.IntN(len(modelRegions))]}
	return s
}

func randomTask(rng *rand.Rand, agents int) *Task {
	t := &Task{ID: fmt.Sprintf("t%d", rng.IntN(5))}
	if rng.IntN(3) > 0 {
		t.Language = modelLanguages[rng.IntN(len(modelLanguages))]
	}
	if rng.IntN(3) > 0 {
		t.Region = modelRegions[rng.IntN(len(modelRegions))]
	}
	if rng.IntN(4) == 0 {
		t.Topics = []string{"vip"}
	}
	if rng.IntN(2) == 0 {
		t.AccountManager = fmt.Sprintf("@a%d:bank.example", rng.IntN(agents))
	}
	t.Anonymous = rng.IntN(5) == 0
	return t
}

// reference selects by scanning every agent: what the indexes must agree with.
func reference(r *Router, staff map[string]Staff, wrapEnds map[string]time.Time, t *Task, step int) string {
	s := &r.wf.Steps[step]
	var best *agentState
	for _, a := range r.agents {
		st := staff[a.userID]
		eligible := !a.removed && a.status == Ready && a.load < a.capacity && !a.offered && !wrapEnds[a.userID].After(timeOf(r.clock))
		if _, out := r.excluded[t.ID][a.idx]; out || !eligible {
			continue
		}
		switch {
		case s.AccountManager && (t.Anonymous || a.userID != t.AccountManager):
			continue
		case s.Expression != nil && !s.Expression.Match(&st, t):
			continue
		}
		if i := strategyIndex(s.Strategy); best == nil || strategyKey(i, a).less(strategyKey(i, best)) {
			best = a
		}
	}
	if best == nil {
		return ""
	}
	return best.userID
}

func TestRouterAgreesWithScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const agents = 40
	staff := map[string]Staff{}
	var list []Staff
	for i := range agents {
		s := randomStaff(rng, i)
		staff[s.UserID] = s
		list = append(list, s)
	}
	r, err := NewRouter(readWorkflow(t, modelWorkflow), list)
	if err != nil {
		t.Fatal(err)
	}
	now := t0
	wrapEnds := map[string]time.Time{} // kept here, not read from the router
	checked, found := 0, 0
	for op := range 20000 {
		now = now.Add(time.Duration(rng.IntN(3000)) * time.Millisecond)
		id := fmt.Sprintf("@a%d:bank.example", rng.IntN(agents))
		task := fmt.Sprintf("t%d", rng.IntN(5))
		switch rng.IntN(10) {
		case 0, 1:
			_ = r.SetStatus(id, []Status{Ready, Ready, Busy, Away, Offline}[rng.IntN(5)], now)
		case 2:
			_ = r.Assigned(id, now)
		case 3:
			if r.Released(id, now) == nil {
				wrapEnds[id] = now.Add(staff[id].WrapUp.Std())
			}
		case 4:
			_ = r.SyncOffer(id, task, now)
		case 5:
			if a, _ := r.Agent(id); a.Offered {
				_ = r.SyncOffer(id, "", now)
				if rng.IntN(2) == 0 {
					_ = r.Assigned(id, now) // accepted
				} else {
					_ = r.Exclude(a.OfferedTask, id) // declined or lapsed
				}
			}
		case 6:
			_ = r.Exclude(task, id)
		case 7:
			r.Forget(task)
		case 8:
			if rng.IntN(20) == 0 { // retrain: skills and languages change
				s := randomStaff(rng, rng.IntN(agents))
				s.WrapUp = staff[s.UserID].WrapUp // a new wrap-up applies from the next release
				staff[s.UserID] = s
				_ = r.AddAgent(s)
			} else {
				_ = r.SetLoad(id, rng.IntN(4), now)
			}
		}
		for range 3 {
			tk := randomTask(rng, agents)
			step := rng.IntN(len(r.wf.Steps))
			d, ok := r.Select(tk, step, now)
			want := reference(r, staff, wrapEnds, tk, step)
			if d.UserID != want || ok != (want != "") {
				t.Fatalf("op %d: step %d for %+v: router chose %q, a scan %q", op, step+1, tk, d.UserID, want)
			}
			checked++
			if ok {
				found++
			}
		}
	}
	if found < checked/4 {
		t.Errorf("only %d of %d selections found an agent: the test exercises too little", found, checked)
	}
}

func TestPoolEviction(t *testing.T) {
	// More task regions than pools kept: pools are dropped and rebuilt, and no cache
	// keeps using a dropped pool (which would no longer see state changes).
	const regions = maxPools * 2
	var staff []Staff
	for i := range regions {
		staff = append(staff, Staff{UserID: fmt.Sprintf("@a%d:bank.example", i), Name: fmt.Sprintf("A%d", i), Role: RoleAgent,
			Regions: []string{fmt.Sprintf("r%d", i)}})
	}
	r, err := NewRouter(readWorkflow(t, "steps: [{expression: 'region == task.region'}]"), staff)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range staff {
		must(t, r.SetStatus(s.UserID, Ready, t0))
	}
	task := func(i int) *Task { return &Task{ID: "t", Region: fmt.Sprintf("r%d", i)} }
	for round := range 2 {
		for i := range regions {
			if d, _ := r.Select(task(i), 0, t0); d.Name != fmt.Sprintf("A%d", i) {
				t.Fatalf("round %d, region %d: selected %q", round, i, d.Name)
			}
		}
	}
	if len(r.pools) > maxPools {
		t.Errorf("%d pools kept, the bound is %d", len(r.pools), maxPools)
	}
	for i := range regions {
		must(t, r.SetStatus(staff[i].UserID, Away, t0))
		if d, ok := r.Select(task(i), 0, t0); ok {
			t.Fatalf("region %d: selected %s, who is away", i, d.Name)
		}
	}
}
