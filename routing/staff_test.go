package routing

import (
	"strings"
	"testing"
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
	for _, ok := range []Status{Ready, Away, Offline} {
		if got, err := ParseStatus(string(ok)); err != nil || got != ok {
			t.Errorf("%s: %v %v", ok, got, err)
		}
	}
	if _, err := ParseStatus("busy"); err == nil {
		t.Error("unknown status accepted")
	}
}
