package routing

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Role says what a staff member may do.
type Role string

const (
	// RoleAgent serves customers.
	RoleAgent Role = "agent"
	// RoleSupervisor watches and steers conversations from side rooms.
	RoleSupervisor Role = "supervisor"
)

// Staff is an agent or supervisor of one tenant.
type Staff struct {
	UserID string `yaml:"user_id"`
	Name   string `yaml:"name"`
	Role   Role   `yaml:"role"`
	// Skills map a skill to a proficiency from 1 (basic) to 5 (expert).
	Skills map[string]int `yaml:"skills,omitempty"`
	// Capacity is how many conversations an agent serves at once (0: DefaultCapacity).
	Capacity int `yaml:"capacity,omitempty"`
	// Languages the agent serves customers in, as language tags ("en", "pt-BR").
	Languages []string `yaml:"languages,omitempty"`
	// Regions the agent covers, by the tenant's region names ("north").
	Regions []string `yaml:"regions,omitempty"`
	// WrapUp is the time after a conversation ends before the agent is offered
	// another (notes, follow-ups); 0: none.
	WrapUp Duration `yaml:"wrap_up,omitempty"`
	// Voice false: the agent is never rung for calls (nil or true: they are).
	Voice *bool `yaml:"voice,omitempty"`
}

// TakesCalls tells whether the agent may be rung for calls.
func (s *Staff) TakesCalls() bool { return s.Voice == nil || *s.Voice }

// MaxConversations is the agent's capacity, with the default applied.
func (s *Staff) MaxConversations() int {
	if s.Capacity > 0 {
		return s.Capacity
	}
	return DefaultCapacity
}

var (
	userIDRe   = regexp.MustCompile(`^@[a-z0-9._=/+-]+:[A-Za-z0-9.:\[\]-]+$`)
	languageRe = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$`)
	regionRe   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
)

// Validate reports every problem of one staff entry.
func (s *Staff) Validate() error {
	var errs []error
	if !userIDRe.MatchString(s.UserID) {
		errs = append(errs, fmt.Errorf("user_id %q is not a Matrix user ID", s.UserID))
	}
	if s.Name == "" {
		errs = append(errs, errors.New("name is required"))
	}
	if s.Role != RoleAgent && s.Role != RoleSupervisor {
		errs = append(errs, fmt.Errorf("role %q must be %s or %s", s.Role, RoleAgent, RoleSupervisor))
	}
	if s.Capacity < 0 {
		errs = append(errs, fmt.Errorf("capacity %d must not be negative", s.Capacity))
	}
	for skill, level := range s.Skills {
		if level < 1 || level > 5 {
			errs = append(errs, fmt.Errorf("skill %q has proficiency %d; use 1 to 5", skill, level))
		}
		// Workflow expressions name skills, so a skill must be writable there.
		if !isSkillName(skill) {
			errs = append(errs, fmt.Errorf("skill %q must be letters, digits, _ or - (starting with a letter) and not a word of the routing expressions", skill))
		}
	}
	errs = append(errs, checkTags("language", s.Languages, languageRe, "a language tag such as en or pt-BR")...)
	errs = append(errs, checkTags("region", s.Regions, regionRe, "letters, digits, _, . or -")...)
	if s.WrapUp < 0 {
		errs = append(errs, fmt.Errorf("wrap_up %s must not be negative", s.WrapUp.Std()))
	}
	return errors.Join(errs...)
}

// checkTags checks a list of languages or regions: well formed, none twice (compared
// without case, as routing compares them).
func checkTags(what string, tags []string, re *regexp.Regexp, want string) []error {
	var errs []error
	seen := map[string]bool{}
	for _, tag := range tags {
		if !re.MatchString(tag) {
			errs = append(errs, fmt.Errorf("%s %q: want %s", what, tag, want))
		}
		if seen[strings.ToLower(tag)] {
			errs = append(errs, fmt.Errorf("%s %q is listed twice", what, tag))
		}
		seen[strings.ToLower(tag)] = true
	}
	return errs
}

// ValidateStaff checks a tenant's staff list: each entry, and nobody listed twice.
func ValidateStaff(staff []Staff) error {
	var errs []error
	seen := map[string]bool{}
	for i := range staff {
		if err := staff[i].Validate(); err != nil {
			errs = append(errs, fmt.Errorf("staff[%d]: %w", i, err))
		}
		if seen[staff[i].UserID] {
			errs = append(errs, fmt.Errorf("staff[%d]: %s is listed twice", i, staff[i].UserID))
		}
		seen[staff[i].UserID] = true
	}
	return errors.Join(errs...)
}
