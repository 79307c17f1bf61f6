package bot

import (
	"fmt"
	"strconv"
	"strings"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/format"
	"maunium.net/go/mautrix/id"
)

// The satisfaction survey: after an agent ends a conversation, the customer is asked
// one question, rated 1 (poor) to 5 (excellent), as a poll and as text.

// DefaultSurveyQuestion is asked unless the tenant words its own.
const DefaultSurveyQuestion = "How would you rate this conversation?"

// surveyLabels name the ratings 1 to 5.
var surveyLabels = [5]string{"1 – poor", "2", "3", "4", "5 – excellent"}

// surveyAnswerPrefix starts the poll answer IDs: rating1 … rating5.
const surveyAnswerPrefix = "rating"

// SurveyText is the question's text notice (Markdown), for clients without polls.
func SurveyText(question string) string {
	return format.EscapeMarkdown(question) + " Reply with a number from **1** (poor) to **5** (excellent)."
}

// SurveyPoll is the question as a single-choice poll.
func SurveyPoll(question string) *event.Content {
	answers := make([]event.PollOption, len(surveyLabels))
	fallback := question
	for i, label := range surveyLabels {
		answers[i] = event.PollOption{ID: surveyAnswerPrefix + strconv.Itoa(i+1), MSC1767Message: event.MSC1767Message{Text: label}}
		fallback += "\n" + label
	}
	return &event.Content{
		Parsed: &event.PollStartEventContent{PollStart: event.PollStart{
			Kind: pollKindDisclose, MaxSelections: 1,
			Question: event.MSC1767Message{Text: question}, Answers: answers,
		}},
		Raw: map[string]any{extensibleText: fallback, "body": fallback},
	}
}

// ParseSurveyVote reads a vote on a survey poll: the poll and the rating (1–5).
func ParseSurveyVote(content map[string]any) (poll id.EventID, rating int, ok bool) {
	selections, found := pollSelections(content)
	poll = referencedEvent(content)
	if !found || len(selections) != 1 || poll == "" || !strings.HasPrefix(selections[0], surveyAnswerPrefix) {
		return "", 0, false
	}
	rating, err := strconv.Atoi(strings.TrimPrefix(selections[0], surveyAnswerPrefix))
	if err != nil || rating < 1 || rating > 5 {
		return "", 0, false
	}
	return poll, rating, true
}

// ParseSurveyText reads a text answer: a rating alone ("4", "4/5", "4 stars", "4️⃣",
// "⭐⭐⭐⭐"). Anything else is the customer talking.
func ParseSurveyText(body string) (rating int, ok bool) {
	s := strings.ToLower(strings.TrimSpace(body))
	s = strings.TrimRight(s, ".!")
	if stars := strings.Count(s, "⭐"); stars > 0 && strings.Trim(s, "⭐\ufe0f ") == "" {
		return stars, stars <= 5
	}
	s = normalizeEmoji(s)
	for i, k := range keycaps[:5] {
		if s == normalizeEmoji(k) {
			return i + 1, true
		}
	}
	for _, suffix := range []string{"/5", " out of 5", " stars", " star"} {
		s = strings.TrimSuffix(s, suffix)
	}
	if len(s) != 1 || s[0] < '1' || s[0] > '5' {
		return 0, false
	}
	return int(s[0] - '0'), true
}

// SurveyThanks answers a survey answer.
const SurveyThanks = "Thank you for your rating."

// SurveyAnswered is what an answered survey's text is edited into.
func SurveyAnswered(question string, rating int) string {
	return fmt.Sprintf("%s You rated it **%d** of 5. Thank you.", format.EscapeMarkdown(question), rating)
}

// SurveySide tells the side room the customer's rating.
func SurveySide(rating int) string {
	return fmt.Sprintf("The customer rated the conversation **%d** of 5.", rating)
}

// SurveyPollEnd closes the survey poll with the rating given.
func SurveyPollEnd(pollID id.EventID, rating int) *event.Content {
	return PollClosed(pollID, fmt.Sprintf("Rated %d of 5", rating))
}
