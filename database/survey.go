package database

import (
	"context"
	"database/sql"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

const (
	surveyColumns     = `conversation_id, tenant_id, room_id, origin, question, asked_at, deadline, rating, method, answered_at`
	insertSurveyQuery = `
		INSERT INTO survey (conversation_id, tenant_id, room_id, origin, question, asked_at, deadline)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (conversation_id) DO NOTHING`
	surveyQuery         = `SELECT ` + surveyColumns + ` FROM survey WHERE conversation_id = $1`
	surveyByOriginQuery = `SELECT ` + surveyColumns + ` FROM survey WHERE origin = $1`
	// The room's newest survey still unanswered and within its time for text answers.
	openSurveyQuery = `
		SELECT ` + surveyColumns + ` FROM survey
		WHERE room_id = $1 AND rating IS NULL AND deadline > $2 ORDER BY asked_at DESC LIMIT 1`
	// Answering is conditional: one rating per survey, whatever arrives twice.
	answerSurveyQuery = `UPDATE survey SET rating = $2, method = $3, answered_at = $4 WHERE conversation_id = $1 AND rating IS NULL`
)

// Survey is the satisfaction survey of a conversation.
type Survey struct {
	Conversation int64
	TenantID     string
	Room         id.RoomID
	// Origin is the poll's name in the event map (the text is Origin+"|text").
	Origin   string
	Question string
	AskedAt  time.Time
	// Deadline: until then a text answer counts as the rating.
	Deadline   time.Time
	Rating     int // 0: not answered
	Method     string
	AnsweredAt time.Time
}

func (s *Survey) Scan(row dbutil.Scannable) (*Survey, error) {
	var asked, deadline int64
	var rating, answered sql.NullInt64
	if err := row.Scan(&s.Conversation, &s.TenantID, &s.Room, &s.Origin, &s.Question, &asked, &deadline, &rating, &s.Method, &answered); err != nil {
		return nil, err
	}
	s.AskedAt, s.Deadline, s.Rating = time.UnixMilli(asked), time.UnixMilli(deadline), int(rating.Int64)
	if answered.Valid {
		s.AnsweredAt = time.UnixMilli(answered.Int64)
	}
	return s, nil
}

// SurveyQuery keeps the surveys.
type SurveyQuery struct {
	*dbutil.QueryHelper[*Survey]
}

// Surveys are the conversations' satisfaction surveys.
func (db *Database) Surveys() *SurveyQuery {
	return &SurveyQuery{dbutil.MakeQueryHelper(db.Database, func(*dbutil.QueryHelper[*Survey]) *Survey { return &Survey{} })}
}

// Add records a survey; false when the conversation has had one already.
func (q *SurveyQuery) Add(ctx context.Context, s *Survey) (bool, error) {
	res, err := q.GetDB().Exec(ctx, insertSurveyQuery, s.Conversation, s.TenantID, s.Room, s.Origin, s.Question,
		s.AskedAt.UnixMilli(), s.Deadline.UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Get returns a conversation's survey, or nil.
func (q *SurveyQuery) Get(ctx context.Context, conversation int64) (*Survey, error) {
	return q.QueryOne(ctx, surveyQuery, conversation)
}

// ByOrigin returns the survey whose poll has this event-map name, or nil.
func (q *SurveyQuery) ByOrigin(ctx context.Context, origin string) (*Survey, error) {
	return q.QueryOne(ctx, surveyByOriginQuery, origin)
}

// Open returns the room's newest unanswered survey that a text answer may still
// answer at now, or nil.
func (q *SurveyQuery) Open(ctx context.Context, room id.RoomID, now time.Time) (*Survey, error) {
	return q.QueryOne(ctx, openSurveyQuery, room, now.UnixMilli())
}

// Answer records the rating; false if the survey was answered already.
func (q *SurveyQuery) Answer(ctx context.Context, conversation int64, rating int, method string, now time.Time) (bool, error) {
	res, err := q.GetDB().Exec(ctx, answerSurveyQuery, conversation, rating, method, now.UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
