package routing

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

const sampleWorkflow = `
offer_timeout: 20s
rona_after: 3
max_wait: 10m
priority:
  - when: 'task.tier == "gold"'
    add: 10
  - when: 'task.topics contains "fraud"'
    add: 50
steps:
  - account_manager: true
    timeout: 30s
  - expression: 'mortgage >= 3 and language == task.language'
    timeout: 1m
    strategy: least_busy
  - queue: support
`

func readWorkflow(t *testing.T, doc string) *Workflow {
	t.Helper()
	var w Workflow
	if err := yaml.Unmarshal([]byte(doc), &w); err != nil {
		t.Fatal(err)
	}
	return &w
}

func TestWorkflowYAML(t *testing.T) {
	w := readWorkflow(t, sampleWorkflow)
	if w.OfferTimeout != 20*time.Second || w.RONAAfter != 3 || w.MaxWait != 10*time.Minute || w.Direct {
		t.Errorf("settings: %+v", w)
	}
	if len(w.Steps) != 3 || !w.Steps[0].AccountManager || w.Steps[0].Timeout != 30*time.Second ||
		w.Steps[1].Expression.String() != "mortgage >= 3 and language == task.language" || w.Steps[1].Strategy != LeastBusy ||
		w.Steps[2].Queue != "support" || w.Steps[2].Strategy != LongestIdle || w.Steps[2].Timeout != 0 || w.Steps[1].Line != 13 {
		t.Errorf("steps: %+v", w.Steps)
	}
	defaults := readWorkflow(t, "steps: [{queue: all}]")
	if defaults.OfferTimeout != DefaultOfferTimeout || defaults.RONAAfter != DefaultRONAAfter || defaults.MaxWait != 0 {
		t.Errorf("defaults: %+v", defaults)
	}
	if err := DefaultWorkflow().check(); err != nil {
		t.Errorf("DefaultWorkflow: %v", err)
	}
}

func TestWorkflowYAMLErrors(t *testing.T) {
	cases := []struct{ doc, want string }{
		{"steps:\n  - queue: a\n    strategy: fastest\n", `workflow line 3: step 1: unknown strategy "fastest"`},
		{"steps:\n  - queue: a\n    timeout: 1m\n  - expression: 'mortgage >='\n", "workflow line 4: step 2: expression: column 12: expected a value after >="},
		{"steps:\n  - queue: a\n    colour: red\n", `workflow line 3: step 1: unknown key "colour"`},
		{"steps:\n  - timeout: 5s\n", "workflow line 2: step 1: needs exactly one of account_manager: true, expression or queue"},
		{"steps:\n  - queue: a\n    account_manager: true\n", "workflow line 2: step 1: needs exactly one"},
		{"steps:\n  - account_manager: false\n  - queue: a\n", "workflow line 2: step 1: account_manager: false is no target"},
		{"steps:\n  - account_manager: yes please\n", `workflow line 2: step 1: account_manager: want true or false, not "yes please"`},
		{"steps:\n  - queue: a\n  - queue: b\n", "workflow line 2: step 1: timeout 0 (forever) leaves the steps after it unused"},
		{"steps:\n  - queue: a\n    timeout: 30\n", `workflow line 3: step 1: timeout: duration "30": want a number with a unit`},
		{"steps:\n  - account_manager: true\n", "workflow line 1: tasks without an account manager need an expression or queue step"},
		{"steps: []\n", "workflow line 1: at least one step is required"},
		{"offer_timeout: 5s\n", "workflow: at least one step is required"},
		{"steps: {queue: a}\n", "workflow line 1: steps: want a list"},
		{"steps: [{queue: a}]\nrona_after: 0\n", "workflow line 2: rona_after 0 must be at least 1"},
		{"steps: [{queue: a}]\nrona_after: two\n", `workflow line 2: rona_after: want a whole number, not "two"`},
		{"steps: [{queue: a}]\noffer_timeout: 0\n", "workflow line 2: offer_timeout must be more than 0 unless direct is true"},
		{"steps: [{queue: a}]\nspeed: 3\n", `workflow line 2: speed: unknown key "speed"`},
		{"steps: [{queue: a}]\nsteps: [{queue: b}]\n", `workflow line 2: "steps" is given twice`},
		{"steps: [{queue: a}]\npriority:\n  - when: 'mortgage >= 3'\n    add: 1\n", "workflow line 3: priority 1: when may use only task attributes"},
		{"steps: [{queue: a}]\npriority:\n  - when: 'task.tier == \"gold\"'\n", "workflow line 3: priority 1: add is required"},
		{"steps: [{queue: a}]\npriority:\n  - when: 'task.tier =='\n    add: 1\n", "workflow line 3: priority 1: expression: column 13: expected a value after =="},
		{"- queue: a\n", "workflow line 1: want a mapping with steps"},
	}
	for _, c := range cases {
		var w Workflow
		err := yaml.Unmarshal([]byte(c.doc), &w)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q:\n got %v\nwant %s", c.doc, err, c.want)
		}
	}
	// Several problems are reported together.
	var w Workflow
	err := yaml.Unmarshal([]byte("steps:\n  - queue: a\n    strategy: x\n  - queue: b\n    timeout: z\n"), &w)
	if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "line 5") {
		t.Errorf("want both errors: %v", err)
	}
}

func TestWorkflowValidateStaff(t *testing.T) {
	w := readWorkflow(t, "steps:\n  - expression: 'language == \"pt\" and region == \"east\" and region == task.region and chess >= 1'\n    timeout: 1m\n  - queue: all\n")
	err := w.Validate([]Staff{carol, dave})
	if err == nil || !strings.Contains(err.Error(), `workflow line 2: step 1: no agent has region "east"`) || strings.Contains(err.Error(), `"pt"`) ||
		strings.Contains(err.Error(), "chess") {
		t.Errorf("got %v", err)
	}
	if err := readWorkflow(t, sampleWorkflow).Validate([]Staff{carol}); err != nil {
		t.Errorf("sample: %v", err)
	}
}

func TestStepFor(t *testing.T) {
	w := readWorkflow(t, sampleWorkflow)
	withAM := &Task{AccountManager: "@carol:bank.example"}
	cases := []struct {
		name string
		task *Task
		age  time.Duration
		step int
		left time.Duration
	}{
		{"account manager first", withAM, 0, 0, 30 * time.Second},
		{"still account manager", withAM, 29 * time.Second, 0, time.Second},
		{"then the expression", withAM, 30 * time.Second, 1, time.Minute},
		{"then the queue, for ever", withAM, 90 * time.Second, 2, 0},
		{"long after", withAM, time.Hour, 2, 0},
		{"no account manager: straight to the expression", &Task{}, 0, 1, time.Minute},
		{"no account manager: its timeout is not waited out", &Task{}, 61 * time.Second, 2, 0},
		{"anonymous: no account manager", &Task{AccountManager: "@carol:bank.example", Anonymous: true}, 0, 1, time.Minute},
	}
	for _, c := range cases {
		step, left := w.StepFor(c.task, c.age)
		if step != c.step || left != c.left {
			t.Errorf("%s: got step %d (%s left), want %d (%s)", c.name, step, left, c.step, c.left)
		}
	}
	last := readWorkflow(t, "steps:\n  - queue: a\n    timeout: 1m\n")
	if step, left := last.StepFor(&Task{}, 2*time.Minute); step != 0 || left != 0 {
		t.Errorf("a last step with a timeout goes on: %d %s", step, left)
	}
}

func TestTaskPriority(t *testing.T) {
	w := readWorkflow(t, sampleWorkflow)
	cases := []struct {
		task Task
		want int
	}{
		{Task{}, 0},
		{Task{Priority: 2}, 2},
		{Task{Tier: "gold"}, 10},
		{Task{Tier: "gold", Topics: []string{"fraud"}, Priority: 1}, 61},
		{Task{Tier: "silver", Topics: []string{"cards"}}, 0},
	}
	for _, c := range cases {
		if got := w.TaskPriority(&c.task); got != c.want {
			t.Errorf("%+v: got %d, want %d", c.task, got, c.want)
		}
	}
}

func FuzzWorkflowYAML(f *testing.F) {
	f.Add(sampleWorkflow)
	f.Add("steps: [{queue: a}]")
	f.Add("steps:\n  - &s {expression: 'a > 1', timeout: 1s}\n  - *s\n  - queue: x\n")
	f.Add("a: &a [*a]\nsteps: *a\n")
	f.Add("priority: [{when: 'task.anonymous', add: 1}]\nsteps: [{account_manager: true, timeout: 1s}, {queue: q, strategy: round_robin}]")
	f.Add("steps: [[], {}, 1, ~]\ndirect: maybe\nmax_wait: -1s")
	f.Fuzz(func(t *testing.T, doc string) {
		var w Workflow
		if err := yaml.Unmarshal([]byte(doc), &w); err != nil {
			return
		}
		if w.RONAAfter == 0 {
			return // an empty or null document: UnmarshalYAML was not called
		}
		// Whatever is accepted must be usable.
		if len(w.Steps) == 0 {
			t.Fatalf("accepted a workflow without steps: %q", doc)
		}
		r, err := NewRouter(&w, []Staff{carol, dave})
		if err != nil {
			t.Fatalf("router refused an accepted workflow: %v", err)
		}
		now := time.Unix(1000, 0)
		_ = r.SetStatus(carol.UserID, Ready, now)
		task := &Task{ID: "t", Tier: "gold", Language: "pt", AccountManager: carol.UserID}
		for i := range w.Steps {
			r.Select(task, i, now)
		}
		w.StepFor(task, time.Minute)
		w.TaskPriority(task)
	})
}

func yamlUnmarshal(doc string, v any) error { return yaml.Unmarshal([]byte(doc), v) }

func TestWorkflowYAMLRoundTrip(t *testing.T) {
	src := `
steps:
  - {account_manager: true, timeout: 30s}
  - {expression: 'mortgage >= 3 and language == task.language', timeout: 1m, strategy: least_busy}
  - {queue: everyone}
priority:
  - {when: 'task.tier == "gold"', add: 10}
offer_timeout: 20s
rona_after: 3
direct: true
max_wait: 10m
`
	var w Workflow
	if err := yaml.Unmarshal([]byte(src), &w); err != nil {
		t.Fatal(err)
	}
	out, err := yaml.Marshal(&w)
	if err != nil {
		t.Fatal(err)
	}
	var again Workflow
	if err = yaml.Unmarshal(out, &again); err != nil {
		t.Fatalf("reading back %s: %v", out, err)
	}
	if len(again.Steps) != 3 || !again.Steps[0].AccountManager || again.Steps[1].Expression.String() != w.Steps[1].Expression.String() ||
		again.Steps[1].Strategy != LeastBusy || again.Steps[1].Timeout != time.Minute || again.Steps[2].Queue != "everyone" ||
		again.OfferTimeout != 20*time.Second || again.RONAAfter != 3 || !again.Direct || again.MaxWait != 10*time.Minute ||
		len(again.PriorityRules) != 1 || again.PriorityRules[0].Add != 10 {
		t.Fatalf("round trip changed the workflow:\n%s", out)
	}
}
