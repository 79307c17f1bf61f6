package database_test

import (
	"context"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/database"
)

// TestWrapUpAndSurvey: one wrap-up and one survey per conversation; an answer and the
// deadline never both settle a wrap-up, a note given before the code stays, a survey
// takes its first rating only and stops taking text answers at its deadline.
func TestWrapUpAndSurvey(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *database.Database) {
		ctx := context.Background()
		now := time.UnixMilli(1_700_000_000_000)
		room := database.CustomerRoom{RoomID: "!c:y", TenantID: "acme", Customer: "@c:y", JoinedAt: now}
		if err := db.CustomerRoom.Put(ctx, &room); err != nil {
			t.Fatal(err)
		}
		conv, err := db.Conversation.Start(ctx, database.NewConversation{TenantID: "acme", RoomID: room.RoomID,
			Ghost: "@g:x", DeskRoom: "!desk:x", SideRoom: "!side:x"}, now)
		if err != nil {
			t.Fatal(err)
		}
		w := &database.WrapUp{Conversation: conv.ID, TenantID: "acme", Agent: "@carol:x", Room: "!control:x", Origin: "cc:wrapup:1",
			Codes: `["Resolved","Billing"]`, AskedAt: now, Deadline: now.Add(time.Minute)}
		for i, want := range []bool{true, false} {
			if added, err := db.WrapUps().Add(ctx, w); err != nil || added != want {
				t.Fatalf("wrap-up add %d: %v %v", i, added, err)
			}
		}
		if open, err := db.WrapUps().Open(ctx, "acme", "@carol:x"); err != nil || open == nil || open.Conversation != conv.ID {
			t.Fatalf("open wrap-up: %+v %v", open, err)
		}
		if due, err := db.WrapUps().Due(ctx, now.Add(30*time.Second)); err != nil || len(due) != 0 {
			t.Fatalf("due before the deadline: %d %v", len(due), err)
		}
		if err = db.WrapUps().SetNote(ctx, conv.ID, "called twice"); err != nil {
			t.Fatal(err)
		}
		if ok, err := db.WrapUps().Settle(ctx, conv.ID, "Billing", "", database.WrapUpByText, now.Add(time.Second)); err != nil || !ok {
			t.Fatalf("settle: %v %v", ok, err)
		}
		if ok, err := db.WrapUps().Settle(ctx, conv.ID, "", "", database.WrapUpByTimeout, now.Add(time.Minute)); err != nil || ok {
			t.Fatalf("settled twice: %v %v", ok, err)
		}
		got, err := db.WrapUps().Get(ctx, conv.ID)
		if err != nil || got.Code != "Billing" || got.Note != "called twice" || got.SettledBy != database.WrapUpByText || got.SettledAt.IsZero() {
			t.Fatalf("settled wrap-up: %+v %v", got, err)
		}
		if due, err := db.WrapUps().Due(ctx, now.Add(time.Hour)); err != nil || len(due) != 0 {
			t.Fatalf("a settled wrap-up is due: %d %v", len(due), err)
		}
		if open, err := db.WrapUps().Open(ctx, "acme", "@carol:x"); err != nil || open != nil {
			t.Fatalf("still open: %+v %v", open, err)
		}
		if last, err := db.WrapUps().Last(ctx, "acme", "@carol:x"); err != nil || last == nil || last.Conversation != conv.ID {
			t.Fatalf("last wrap-up: %+v %v", last, err)
		}

		s := &database.Survey{Conversation: conv.ID, TenantID: "acme", Room: room.RoomID, Origin: "cc:survey:1", Question: "How?",
			AskedAt: now, Deadline: now.Add(time.Hour)}
		for i, want := range []bool{true, false} {
			if added, err := db.Surveys().Add(ctx, s); err != nil || added != want {
				t.Fatalf("survey add %d: %v %v", i, added, err)
			}
		}
		if open, err := db.Surveys().Open(ctx, room.RoomID, now.Add(2*time.Hour)); err != nil || open != nil {
			t.Fatalf("open after its deadline: %+v %v", open, err)
		}
		if open, err := db.Surveys().Open(ctx, room.RoomID, now.Add(time.Minute)); err != nil || open == nil {
			t.Fatalf("open survey: %+v %v", open, err)
		}
		if ok, err := db.Surveys().Answer(ctx, conv.ID, 4, "poll", now.Add(time.Minute)); err != nil || !ok {
			t.Fatalf("answer: %v %v", ok, err)
		}
		if ok, err := db.Surveys().Answer(ctx, conv.ID, 1, "text", now.Add(2*time.Minute)); err != nil || ok {
			t.Fatalf("answered twice: %v %v", ok, err)
		}
		got2, err := db.Surveys().ByOrigin(ctx, "cc:survey:1")
		if err != nil || got2.Rating != 4 || got2.Method != "poll" {
			t.Fatalf("answered survey: %+v %v", got2, err)
		}
		if open, err := db.Surveys().Open(ctx, room.RoomID, now.Add(time.Minute)); err != nil || open != nil {
			t.Fatalf("open once answered: %+v %v", open, err)
		}

		replies := db.CannedReplies()
		for i, want := range []bool{true, false} {
			created, err := replies.Put(ctx, &database.CannedReply{TenantID: "acme", Name: "hi", Text: "Hello " + string(rune('a'+i)), UpdatedAt: now})
			if err != nil || created != want {
				t.Fatalf("canned put %d: %v %v", i, created, err)
			}
		}
		if r, err := replies.Get(ctx, "acme", "hi"); err != nil || r == nil || r.Text != "Hello b" {
			t.Fatalf("canned get: %+v %v", r, err)
		}
		if r, err := replies.Get(ctx, "globex", "hi"); err != nil || r != nil {
			t.Fatalf("another tenant's reply: %+v %v", r, err)
		}
		if ok, err := replies.Delete(ctx, "acme", "hi"); err != nil || !ok {
			t.Fatalf("canned delete: %v %v", ok, err)
		}
		if list, err := replies.OfTenant(ctx, "acme"); err != nil || len(list) != 0 {
			t.Fatalf("after delete: %d %v", len(list), err)
		}
	})
}
