package bot

import (
	"errors"
	"fmt"
	"strings"

	"github.com/contactcenter/contactcenter/consent"
)

// ValidatePromptPurposes checks that a tenant's consent categories can be asked: one
// keycap reaction each, and no category named like an answer word (a customer who
// types "all" must not be read as choosing a category called "all").
func ValidatePromptPurposes(purposes []consent.Purpose) error {
	var errs []error
	if len(purposes) > MaxPromptCategories {
		errs = append(errs, fmt.Errorf("consent: %d categories, but a prompt can ask at most %d", len(purposes), MaxPromptCategories))
	}
	for i, p := range purposes {
		switch strings.ToLower(string(p.Category)) {
		case AnswerAll, AnswerNone, AnswerRemember:
			errs = append(errs, fmt.Errorf("consent[%d]: %q is an answer word and cannot name a category", i, p.Category))
		}
	}
	return errors.Join(errs...)
}
