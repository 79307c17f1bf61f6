package routing

import (
	"fmt"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration read from YAML as "30s", "2m" or "1h30m"; a bare 0
// means none. Bare numbers other than 0 are refused: "30" could mean seconds or
// minutes, and a wrong guess here silently changes how conversations are routed.
type Duration time.Duration

// Std is the duration as the standard type.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// UnmarshalYAML reads a duration scalar.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := parseDuration(n)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration the way it is read.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// parseDuration reads a YAML scalar as a non-negative duration.
func parseDuration(n *yaml.Node) (time.Duration, error) {
	if n.Kind != yaml.ScalarNode {
		return 0, fmt.Errorf("want a duration such as 30s or 2m")
	}
	if n.Value == "0" {
		return 0, nil
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want a number with a unit, such as 30s or 2m", n.Value)
	}
	if v < 0 {
		return 0, fmt.Errorf("duration %q must not be negative", n.Value)
	}
	return v, nil
}
