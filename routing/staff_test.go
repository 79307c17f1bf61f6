package routing

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestValidateStaff(t *testing.T) {
	good := []Staff{
		{UserID: "@carol:bank.example", Name: "Carol", Role: RoleAgent, Skills: map[string]int{"mortgage": 4}},
		{UserID: "@sam:bank.example:8448", Name: "Sam", Role: RoleSupervisor},
	}
	if err := ValidateStaff(good); err != nil {
		t.Fatalf("valid staff refused: %v", err)
	}
	bad := []Staff{
		{UserID: "carol", Name: "", Role: "boss", Skills: map[string]int{"x": 9}},
		good[0], good[0],
	}
	err := ValidateStaff(bad)
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{`"carol" is not a Matrix user ID`, "name is required", `role "boss"`, "proficiency 9", "listed twice"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %s:\n%v", want, err)
		}
	}
}

func TestParseStatus(t *testing.T) {
	for _, ok := range []Status{Ready, Busy, Away, Offline} {
		if got, err := ParseStatus(string(ok)); err != nil || got != ok {
			t.Errorf("%s: %v %v", ok, got, err)
		}
	}
	if _, err := ParseStatus("lunch"); err == nil {
		t.Error("unknown status accepted")
	}
}

func TestStaffAttributes(t *testing.T) {
	var s Staff
	doc := "user_id: \"@carol:bank.example\"\nname: Carol\nrole: agent\nskills: {mortgage: 4, credit-cards: 2}\n" +
		"languages: [en, pt-BR]\nregions: [north]\nwrap_up: 2m30s\n"
	if err := yaml.Unmarshal([]byte(doc), &s); err != nil {
		t.Fatal(err)
	}
	if s.WrapUp.Std() != 150*time.Second || len(s.Languages) != 2 || s.Regions[0] != "north" {
		t.Fatalf("read %+v", s)
	}
	if err := s.Validate(); err != nil {
		t.Fatalf("valid staff refused: %v", err)
	}
	for _, c := range []struct{ yaml, want string }{
		{"wrap_up: 0", ""},
		{"wrap_up: 30", `line 1: duration "30": want a number with a unit`},
		{"wrap_up: -5s", `duration "-5s" must not be negative`},
		{"wrap_up: [1]", "line 1: want a duration"},
	} {
		var s Staff
		err := yaml.Unmarshal([]byte(c.yaml), &s)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: got %v, want %q", c.yaml, err, c.want)
		}
	}
	bad := Staff{UserID: "@x:y", Name: "X", Role: RoleAgent, Skills: map[string]int{"language": 2, "two words": 1, "9lives": 1},
		Languages: []string{"english", "en", "EN"}, Regions: []string{"north west"}, WrapUp: Duration(-time.Second)}
	err := bad.Validate()
	for _, want := range []string{`skill "language" must be`, `skill "two words"`, `skill "9lives"`, `language "english": want a language tag`,
		`language "EN" is listed twice`, `region "north west"`, "wrap_up -1s must not be negative"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %s:\n%v", want, err)
		}
	}
}
