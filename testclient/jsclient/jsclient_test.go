package jsclient

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/testbed"
)

func startClient(t *testing.T, ctx context.Context) *Client {
	t.Helper()
	c, err := Start(ctx)
	if errors.Is(err, ErrNoNode) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return c
}

func TestDriverErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	begin := time.Now()
	if err := Ensure(ctx); errors.Is(err, ErrNoNode) {
		t.Skip(err)
	} else if err != nil {
		t.Fatal(err)
	}
	t.Logf("Ensure took %v", time.Since(begin))
	c := startClient(t, ctx)
	err := c.call(ctx, "noSuchCommand", nil, 0, nil)
	var jerr *Error
	if !errors.As(err, &jerr) || !strings.Contains(jerr.Message, "unknown command") {
		t.Fatalf("unknown command: %v", err)
	}
	if _, err := c.Messages(ctx, "!nope:localhost"); err == nil || !strings.Contains(err.Error(), "not logged in") {
		t.Fatalf("messages before login: %v", err)
	}
	if _, _, err := c.Login(ctx, "http://127.0.0.1:1", "nobody", "x"); err == nil {
		t.Fatal("login to a closed port succeeded")
	}
	// The driver survived all of that.
	if _, err := c.RoomState(ctx, "!nope:localhost"); err == nil || !strings.Contains(err.Error(), "not logged in") {
		t.Fatalf("roomState: %v", err)
	}
}

func TestDM(t *testing.T) {
	bed, err := testbed.Start(context.Background(), testbed.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bed.Close() })
	hs := bed.Customer
	for _, tc := range []struct {
		name      string
		encrypted bool
	}{{"unencrypted", false}, {"encrypted", true}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			aliceName, bobName := "alice_"+tc.name, "bob_"+tc.name
			for name, password := range map[string]string{aliceName: "alice-password", bobName: "bob-password"} {
				if _, err := hs.Register(ctx, name, password, false); err != nil {
					t.Fatal(err)
				}
			}
			alice, bob := startClient(t, ctx), startClient(t, ctx)

			begin := time.Now()
			aliceID, aliceDev, err := alice.Login(ctx, hs.URL, aliceName, "alice-password")
			if err != nil {
				t.Fatal(err)
			}
			bobID, _, err := bob.Login(ctx, hs.URL, bobName, "bob-password")
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("logins: %v (alice %s device %s)", time.Since(begin), aliceID, aliceDev)

			begin = time.Now()
			roomID, err := alice.CreateDM(ctx, bobID, tc.encrypted)
			if err != nil {
				t.Fatal(err)
			}
			if err := bob.Join(ctx, roomID); err != nil {
				t.Fatal(err)
			}
			if err := alice.WaitJoined(ctx, roomID, bobID, 10*time.Second); err != nil {
				t.Fatal(err)
			}
			t.Logf("DM created and joined: %v", time.Since(begin))

			begin = time.Now()
			sent, err := alice.SendText(ctx, roomID, "hello bob, "+tc.name)
			if err != nil {
				t.Fatal(err)
			}
			got, err := bob.WaitForMessage(ctx, roomID, MessageFilter{Sender: aliceID, Contains: "hello bob"}, 20*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if got.EventID != sent || got.Body() != "hello bob, "+tc.name || got.Type != "m.room.message" || got.Encrypted != tc.encrypted {
				t.Fatalf("bob got %+v, want event %s", got, sent)
			}
			reply, err := bob.SendText(ctx, roomID, "hi alice")
			if err != nil {
				t.Fatal(err)
			}
			back, err := alice.WaitForMessage(ctx, roomID, MessageFilter{AfterEventID: sent, Sender: bobID}, 20*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if back.EventID != reply || back.Body() != "hi alice" || back.Encrypted != tc.encrypted {
				t.Fatalf("alice got %+v, want event %s", back, reply)
			}
			t.Logf("round trip (send, receive decrypted, reply, receive): %v", time.Since(begin))

			react, err := bob.SendEvent(ctx, roomID, "m.reaction", map[string]any{
				"m.relates_to": map[string]any{"rel_type": "m.annotation", "event_id": sent, "key": "👍"},
			})
			if err != nil {
				t.Fatal(err)
			}
			ev, err := alice.WaitForMessage(ctx, roomID, MessageFilter{Type: "m.reaction"}, 20*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if ev.EventID != react {
				t.Fatalf("reaction: got %+v, want %s", ev, react)
			}

			st, err := bob.RoomState(ctx, roomID)
			if err != nil {
				t.Fatal(err)
			}
			if st.Encrypted != tc.encrypted || st.Member(aliceID) == nil || st.Member(aliceID).Membership != "join" || st.Member(bobID).Membership != "join" {
				t.Fatalf("room state %+v", st)
			}
			msgs, err := alice.Messages(ctx, roomID)
			if err != nil {
				t.Fatal(err)
			}
			var bodies []string
			for _, m := range msgs {
				if m.Type == "m.room.message" {
					bodies = append(bodies, m.Sender+": "+m.Body())
					if m.Encrypted != tc.encrypted || m.DecryptionFailure {
						t.Errorf("message %+v", m)
					}
				}
			}
			if want := []string{aliceID + ": hello bob, " + tc.name, bobID + ": hi alice"}; strings.Join(bodies, "|") != strings.Join(want, "|") {
				t.Fatalf("alice's timeline messages %q, want %q", bodies, want)
			}
		})
	}
}
