package bridge

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"

	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/linkcode"
)

// A customer over the event limit: what was within the limit is relayed, the
// customer is told once, the rest is dropped, and another customer is untouched.
func TestCustomerOverTheEventLimit(t *testing.T) {
	bed := newInputBed(t)
	bed.b.Config.Limits.CustomerEvents = config.RateConfig{Every: time.Hour, Burst: 3}
	bed.b.initLimits()
	for i := range 6 {
		evtID := bed.send(t, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: "message " + string(rune('1'+i))})
		if done, lastErr := bed.handled(t, evtID); !done || lastErr != "" {
			t.Fatalf("message %d not finished: %v %q", i+1, done, lastErr)
		}
	}
	var relayed, told int
	for _, q := range bed.outbox(t) {
		switch {
		case q.room == bed.conv.DeskRoom && strings.Contains(q.content, "message "):
			relayed++
		case q.room == bedCustomerRoom && q.message().Body == bot.SlowDown:
			told++
		}
	}
	if relayed != 3 || told != 1 {
		t.Fatalf("%d messages relayed (want the 3 within the limit), told %d times (want once)", relayed, told)
	}
	if ok, _ := bed.b.limits.customerEvents.Take("@alice:other.example", time.Now()); !ok {
		t.Fatal("another customer is limited by bob's flood")
	}
}

// An event whose tokens its handler spends (a call invite, what a /sync loop filed)
// spends them once however often it is handled: one retried after a failure of ours
// keeps its verdict, and the customer's other events are not refused for it.
func TestEventLimitSpentOncePerEvent(t *testing.T) {
	bed := newInputBed(t)
	bed.b.Config.Limits.CustomerEvents = config.RateConfig{Every: time.Hour, Burst: 2}
	bed.b.initLimits()
	for range 3 {
		if v := bed.b.eventVerdictOnce("$first", bedCustomer); !v.ok {
			t.Fatal("the first event, handled again, was refused")
		}
	}
	if v := bed.b.eventVerdictOnce("$second", bedCustomer); !v.ok {
		t.Fatal("the second event was refused: the first one's retries spent the customer's tokens")
	}
	for range 2 {
		if v := bed.b.eventVerdictOnce("$third", bedCustomer); v != (eventVerdict{ok: false, first: true}) {
			t.Fatalf("the third event (over the limit) got %+v, want refused and told, each time", v)
		}
	}
	if v := bed.b.eventVerdictOnce("$fourth", bedCustomer); v != (eventVerdict{}) {
		t.Fatalf("the fourth event got %+v, want refused silently", v)
	}
}

// Codes over the attempt limit are not checked (the customer is told once) and stay
// hidden from staff all the same.
func TestCodeAttemptsLimited(t *testing.T) {
	bed := newInputBed(t)
	bed.b.Config.Limits.CodeAttempts = config.RateConfig{Every: time.Hour, Burst: 1}
	bed.b.initLimits()
	first, second := bed.newCode(t, linkcode.Visitor), bed.newCode(t, linkcode.Visitor)
	for _, code := range []string{first, second} {
		bed.send(t, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgText, Body: code})
	}
	var told int
	for _, q := range bed.outbox(t) {
		if strings.Contains(q.content, first) || strings.Contains(q.content, second) {
			t.Fatalf("a code was queued for someone: %s", q.content)
		}
		if q.room == bedCustomerRoom && q.message().Body == bot.TooManyCodes {
			told++
		}
	}
	if told != 1 {
		t.Fatalf("told %d times about the limit, want once", told)
	}
	if _, ok, err := bed.b.Consent.Redeem(context.Background(), subjectOf(bed.t, bedCustomer), linkcode.Hash(second)); err != nil || !ok {
		t.Fatalf("the code over the limit was used up anyway (ok=%v, %v)", ok, err)
	}
}

// An invite handled again gets the answer of its first time, without deciding (and
// spending a room of the customer's limit) again; old answers make room for new ones.
func TestInviteAnswersAreRememberedAndBounded(t *testing.T) {
	a := newAnswers[bool]()
	decided := 0
	spend := func() bool { decided++; return decided <= 1 }
	if !a.get("acme|$invite1", spend) || !a.get("acme|$invite1", spend) {
		t.Fatal("the first invite was not let in both times")
	}
	if a.get("acme|$invite2", spend) || a.get("acme|$invite2", spend) {
		t.Fatal("the second invite (over the limit) was let in")
	}
	if decided != 2 {
		t.Fatalf("decided %d times for two invites", decided)
	}
	for i := range maxRememberedAnswers {
		a.get(fmt.Sprintf("acme|$later%d", i), func() bool { return true })
	}
	if len(a.byKey) != maxRememberedAnswers || len(a.order) != maxRememberedAnswers {
		t.Fatalf("kept %d answers (%d in order), want %d", len(a.byKey), len(a.order), maxRememberedAnswers)
	}
	if _, kept := a.byKey["acme|$invite1"]; kept {
		t.Fatal("the oldest answer was not forgotten")
	}
}
