// Package consent holds the rules of what a business may see of a customer: the
// categories of context, the customer's policy for each, and the
// records, receipts and the one gate every read of context goes through. It knows
// nothing of Matrix.
package consent

import (
	"errors"
	"fmt"
	"regexp"
)

// Category is a kind of customer context the business may ask to see.
type Category string

const (
	Identity  Category = "identity"
	Account   Category = "account"
	Location  Category = "location"
	Browsing  Category = "browsing"
	Recording Category = "recording"
	Contact   Category = "contact"
)

// Purpose tells the customer why a tenant asks for a category.
type Purpose struct {
	Category Category `yaml:"category"`
	Purpose  string   `yaml:"purpose"`
}

// DefaultPurposes are what a tenant asks for unless it configures its own.
func DefaultPurposes() []Purpose {
	return []Purpose{
		{Identity, "so the agent knows who you are and can use your name"},
		{Account, "so the agent can see your products and account details"},
		{Location, "so we can route you to your region and local team"},
		{Browsing, "so the agent knows which pages you looked at before writing"},
		{Recording, "so calls can be recorded for quality and training"},
		{Contact, "so we may contact you first about your requests"},
	}
}

// Policy is the customer's standing choice for one category at one tenant.
type Policy string

const (
	Always Policy = "always"
	Ask    Policy = "ask"
	Never  Policy = "never"
)

// DefaultPolicy applies until the customer chooses: ask every time.
const DefaultPolicy = Ask

// ParsePolicy reads a policy name.
func ParsePolicy(s string) (Policy, error) {
	switch p := Policy(s); p {
	case Always, Ask, Never:
		return p, nil
	}
	return "", fmt.Errorf("policy %q must be always, ask or never", s)
}

var categoryRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// ValidatePurposes checks a tenant's categories: known shape, a purpose each, no repeats.
func ValidatePurposes(purposes []Purpose) error {
	var errs []error
	seen := map[Category]bool{}
	for i, p := range purposes {
		if !categoryRe.MatchString(string(p.Category)) {
			errs = append(errs, fmt.Errorf("consent[%d]: category %q must be 1-32 of a-z, 0-9 and _", i, p.Category))
		}
		if p.Purpose == "" {
			errs = append(errs, fmt.Errorf("consent[%d]: category %q needs a purpose the customer can read", i, p.Category))
		}
		if seen[p.Category] {
			errs = append(errs, fmt.Errorf("consent[%d]: category %q is listed twice", i, p.Category))
		}
		seen[p.Category] = true
	}
	return errors.Join(errs...)
}
