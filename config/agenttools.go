package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/contactcenter/contactcenter/bot"
)

// What agents have at hand besides the conversation: canned replies, wrap-up codes
// and the customer's satisfaction survey. The keys sit directly in a tenant:
//
//	canned_replies:
//	    - name: greeting                  # !c greeting in the desk room
//	      text: "Hello {first_name}, I am {agent} from {business}. How can I help?"
//	    - name: bye
//	      text: "Thank you for contacting {business}, {first_name}!"
//	wrap_up_codes: [Resolved, Follow-up needed, Billing question, Not for us]
//	wrap_up_timeout: 2m                   # for agents with no wrap_up of their own
//	survey:
//	    disabled: false                   # true: no survey after the end
//	    question: "How would you rate this conversation?"
//	    answer_within: 1h                 # a text answer counts this long after the end
//
// {first_name} and {name} are the customer's, and only when they shared identity in
// the conversation (read through the consent gate); otherwise they are empty.
// Replies set through the admin API (canned_replies) override the config's by name.

// AgentToolsConfig holds a tenant's agent tools (inlined into Tenant).
type AgentToolsConfig struct {
	CannedReplies []CannedReply `yaml:"canned_replies"`
	// WrapUpCodes are the dispositions an agent picks from when a conversation of
	// theirs ends; none: no wrap-up question.
	WrapUpCodes []string `yaml:"wrap_up_codes"`
	// WrapUpTimeout is how long the wrap-up question waits for an agent who has no
	// wrap_up time of their own (0: DefaultWrapUpTimeout). An agent's wrap_up time,
	// when set, is the limit: wrap-up ends with the code or when it runs out.
	WrapUpTimeout time.Duration `yaml:"wrap_up_timeout"`
	Survey        SurveyConfig  `yaml:"survey"`
}

// CannedReply is a ready-made answer.
type CannedReply struct {
	Name string `yaml:"name"`
	Text string `yaml:"text"`
}

// SurveyConfig is the satisfaction survey after an agent ends a conversation.
type SurveyConfig struct {
	Disabled bool   `yaml:"disabled"`
	Question string `yaml:"question"`
	// AnswerWithin: a text answer ("4") counts as the rating this long after the end
	// (0: DefaultSurveyAnswerWithin); later it starts a new conversation as any text does.
	AnswerWithin time.Duration `yaml:"answer_within"`
}

// Defaults of the agent tools.
const (
	DefaultWrapUpTimeout      = 2 * time.Minute
	DefaultSurveyAnswerWithin = time.Hour
	maxWrapUpCodes            = 20
	maxWrapUpCode             = 60
)

// WrapUpWithin is how long the wrap-up question waits for an agent whose own wrap-up
// time is agentWrapUp.
func (a *AgentToolsConfig) WrapUpWithin(agentWrapUp time.Duration) time.Duration {
	switch {
	case agentWrapUp > 0:
		return agentWrapUp
	case a.WrapUpTimeout > 0:
		return a.WrapUpTimeout
	}
	return DefaultWrapUpTimeout
}

// SurveyQuestion is the survey's question with the default applied.
func (a *AgentToolsConfig) SurveyQuestion() string {
	if q := strings.TrimSpace(a.Survey.Question); q != "" {
		return q
	}
	return bot.DefaultSurveyQuestion
}

// SurveyWindow is how long after the end a text answer counts as the rating.
func (a *AgentToolsConfig) SurveyWindow() time.Duration {
	if a.Survey.AnswerWithin > 0 {
		return a.Survey.AnswerWithin
	}
	return DefaultSurveyAnswerWithin
}

func (a *AgentToolsConfig) validate(where string) []error {
	var errs []error
	seen := map[string]bool{}
	for i, r := range a.CannedReplies {
		at := fmt.Sprintf("%s.canned_replies[%d]", where, i)
		if err := bot.ValidateCannedName(r.Name); err != nil {
			errs = append(errs, fmt.Errorf("%s.name %q %w", at, r.Name, err))
		} else if seen[r.Name] {
			errs = append(errs, fmt.Errorf("%s.name %q is used twice", at, r.Name))
		}
		seen[r.Name] = true
		if err := bot.ValidateCannedText(r.Text); err != nil {
			errs = append(errs, fmt.Errorf("%s.text %w", at, err))
		}
	}
	if len(a.WrapUpCodes) > maxWrapUpCodes {
		errs = append(errs, fmt.Errorf("%s.wrap_up_codes: at most %d codes", where, maxWrapUpCodes))
	}
	codes := map[string]bool{}
	for i, c := range a.WrapUpCodes {
		trimmed := strings.TrimSpace(c)
		switch {
		case trimmed == "" || len(trimmed) > maxWrapUpCode || strings.ContainsAny(trimmed, "\n\r"):
			errs = append(errs, fmt.Errorf("%s.wrap_up_codes[%d] must be one line of 1 to %d characters", where, i, maxWrapUpCode))
		case trimmed[0] >= '0' && trimmed[0] <= '9':
			errs = append(errs, fmt.Errorf("%s.wrap_up_codes[%d] %q must not start with a digit (agents answer with numbers)", where, i, c))
		case codes[strings.ToLower(trimmed)]:
			errs = append(errs, fmt.Errorf("%s.wrap_up_codes[%d] %q is listed twice", where, i, c))
		}
		codes[strings.ToLower(trimmed)] = true
	}
	if a.WrapUpTimeout < 0 || a.Survey.AnswerWithin < 0 {
		errs = append(errs, fmt.Errorf("%s: wrap_up_timeout and survey.answer_within must not be negative", where))
	}
	return errs
}
