// Package routing holds the rules for who serves a conversation: staff, their roles and
// skills, and (with the routing issue) queues, workflows and selection. It knows
// nothing of Matrix: users are plain IDs and the bridge translates.
package routing

import (
	"errors"
	"fmt"
	"regexp"
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
}

// MaxConversations is the agent's capacity, with the default applied.
func (s *Staff) MaxConversations() int {
	if s.Capacity > 0 {
		return s.Capacity
	}
	return DefaultCapacity
}

var userIDRe = regexp.MustCompile(`^@[a-z0-9._=/+-]+:[A-Za-z0-9.:\[\]-]+$`)

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
	}
	return errors.Join(errs...)
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
