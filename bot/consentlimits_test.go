package bot

import (
	"fmt"
	"strings"
	"testing"

	"github.com/contactcenter/contactcenter/consent"
)

func TestValidatePromptPurposes(t *testing.T) {
	if err := ValidatePromptPurposes(consent.DefaultPurposes()); err != nil {
		t.Fatalf("default purposes refused: %v", err)
	}
	var ten []consent.Purpose
	for i := range 10 {
		ten = append(ten, consent.Purpose{Category: consent.Category(fmt.Sprintf("c%d", i)), Purpose: "x"})
	}
	if err := ValidatePromptPurposes(ten); err == nil || !strings.Contains(err.Error(), "at most 9") {
		t.Errorf("ten categories: %v", err)
	}
	for _, word := range []string{"all", "none", "remember"} {
		err := ValidatePromptPurposes([]consent.Purpose{{Category: consent.Category(word), Purpose: "x"}})
		if err == nil || !strings.Contains(err.Error(), "answer word") {
			t.Errorf("%s: %v", word, err)
		}
	}
	// Every valid list can be prompted for: the prompt builder accepts what passes.
	if _, err := ConsentPrompt("ACME", ten[:9], false); err != nil {
		t.Errorf("nine categories pass validation but not the prompt: %v", err)
	}
}
