package bridge

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/linkcode"
)

// queryCounter counts the statements whose text contains match (all for ""), and the
// calls whose method (Begin, Commit) is match; the end of a statement's rows is not
// another statement.
type queryCounter struct {
	dbutil.DatabaseLogger
	match string
	n     atomic.Int32
}

// countQueries has the bed's database count its statements from now on.
func countQueries(bed *inputBed, match string) *queryCounter {
	c := &queryCounter{DatabaseLogger: bed.b.DB.Log, match: match}
	bed.b.DB.Log = c
	return c
}

func (c *queryCounter) QueryTiming(ctx context.Context, method, query string, args []any, nrows int, took time.Duration, err error) {
	if method != "EndRows" && strings.Contains(query, c.match) || method == c.match {
		c.n.Add(1)
	}
	c.DatabaseLogger.QueryTiming(ctx, method, query, args, nrows, took, err)
}

// A customer's messages handled in one turn have their room read once, with the
// turn's entries, as long as relaying them changes nothing of it; an event the
// service takes (a shared location without consent) or acts on while relaying it (a
// code) has the room read anew for the next. Every message is relayed all the same.
func TestRoomReadOncePerBurst(t *testing.T) {
	bed := newInputBed(t)
	alone := countQueries(bed, "FROM customer_room r LEFT JOIN conversation c")
	withEntries := countQueries(bed, "LEFT JOIN customer_room r ON")
	text := func(body string) *event.MessageEventContent {
		return &event.MessageEventContent{MsgType: event.MsgText, Body: body}
	}
	burst := func(name string, wantReads int32, events ...func() id.EventID) {
		t.Helper()
		var ids []id.EventID
		for _, file := range events {
			ids = append(ids, file())
		}
		alone.n.Store(0)
		withEntries.n.Store(0)
		bed.b.drainInbox(zerolog.New(zerolog.NewTestWriter(t)).WithContext(context.Background()), bedCustomerRoom)
		for _, evtID := range ids {
			if done, lastError := bed.handled(t, evtID); !done || lastError != "" {
				t.Fatalf("%s: %s handled %v, last error %q", name, evtID, done, lastError)
			}
		}
		if with, n := withEntries.n.Load(), alone.n.Load(); with != 1 || with+n != wantReads {
			t.Errorf("%s: the room was read %d times with the turn's entries and %d alone, want once with them and %d in all", name, with, n, wantReads)
		}
	}
	var relayed []id.EventID
	relay := func(body string) func() id.EventID {
		return func() id.EventID {
			evtID := bed.file(t, bedCustomer, event.EventMessage, text(body))
			relayed = append(relayed, evtID)
			return evtID
		}
	}
	ours := func() id.EventID { return bed.file(t, bed.t.UserID, event.EventMessage, text("a reply of ours")) }
	location := func() id.EventID {
		return bed.file(t, bedCustomer, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgLocation, Body: "here", GeoURI: "geo:48.2,16.37"})
	}

	burst("plain messages", 1, relay("one"), relay("two"), relay("three"))
	burst("with our own event between", 1, relay("four"), ours, relay("five"))
	burst("with a location between", 2, relay("six"), location, relay("seven"))
	// A message with a code is relayed (without the code), and the code redeemed.
	burst("with a code between", 2, relay("eight"), relay("order 123, code "+bed.newCode(t, linkcode.Link)), relay("nine"))
	burst("each alone", 1, relay("ten"))

	for _, evtID := range relayed {
		if desk := bed.queuedFor(t, bed.conv.DeskRoom, evtID); len(desk) != 1 {
			t.Errorf("%s: %d copies in the desk room, want 1", evtID, len(desk))
		}
		if side := bed.queuedFor(t, bed.conv.SideRoom, evtID); len(side) != 1 {
			t.Errorf("%s: %d copies in the side room, want 1", evtID, len(side))
		}
	}
}
