package consent

import (
	"strings"
	"testing"
)

func TestDefaultsAreValid(t *testing.T) {
	if err := ValidatePurposes(DefaultPurposes()); err != nil {
		t.Fatal(err)
	}
	if len(DefaultPurposes()) != 6 {
		t.Fatal("the design names six default categories")
	}
}

func TestValidatePurposes(t *testing.T) {
	err := ValidatePurposes([]Purpose{{"Bad Name", "x"}, {Location, ""}, {Identity, "a"}, {Identity, "b"}})
	for _, want := range []string{`"Bad Name"`, "needs a purpose", "listed twice"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %s: %v", want, err)
		}
	}
}

func TestParsePolicy(t *testing.T) {
	for _, ok := range []string{"always", "ask", "never"} {
		if p, err := ParsePolicy(ok); err != nil || string(p) != ok {
			t.Errorf("%s: %v %v", ok, p, err)
		}
	}
	if _, err := ParsePolicy("sometimes"); err == nil {
		t.Error("unknown policy accepted")
	}
	if DefaultPolicy != Ask {
		t.Error("the default must be ask")
	}
}
