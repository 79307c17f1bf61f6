package bridge

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"maunium.net/go/mautrix/id"
)

// deskPages is a homeserver whose /messages answers, per "from", a set page, and
// records what it was asked.
type deskPages struct {
	mu    sync.Mutex
	pages map[string]string // from -> response body
	asked []string          // "user_id dir from" of each request
}

func (d *deskPages) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d.mu.Lock()
	d.asked = append(d.asked, q.Get("user_id")+" "+q.Get("dir")+" "+q.Get("from"))
	body, ok := d.pages[q.Get("from")]
	d.mu.Unlock()
	if !ok {
		body = `{"start":"","chunk":[]}`
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(body))
}

func redactionJSON(evtID string, room id.RoomID) string {
	return fmt.Sprintf(`{"type":"m.room.redaction","event_id":%q,"room_id":%q,"sender":"@agent:biz.example","redacts":"$m1","origin_server_ts":1,"content":{"redacts":"$m1"}}`, evtID, room)
}

func TestPollRoomFilesRedactionsAndMovesOn(t *testing.T) {
	ctx := context.Background()
	bed := newInputBed(t)
	desk, ghost := bed.conv.DeskRoom, bed.conv.Ghost
	message := fmt.Sprintf(`{"type":"m.room.message","event_id":"$m1","room_id":%q,"sender":"@agent:biz.example","origin_server_ts":1,"content":{"msgtype":"m.text","body":"hi"}}`, desk)
	hs := &deskPages{pages: map[string]string{
		"":     `{"start":"","end":"t5_1","chunk":[` + message + `,` + redactionJSON("$r1", desk) + `]}`,
		"t5_1": `{"start":"t5_1","end":"t7_1","chunk":[` + redactionJSON("$r1", desk) + `,` + redactionJSON("$r2", desk) + `]}`,
	}}
	srv := httptest.NewServer(http.HandlerFunc(hs.serve))
	t.Cleanup(srv.Close)
	bed.b.Config.Homeserver.Address = srv.URL
	poller := newRedactionPoller(bed.b)

	position := func() string {
		all, err := poller.positions.All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return all[desk]
	}
	filed := func(key string) int {
		var n int
		if err := bed.b.DB.QueryRow(ctx, `SELECT COUNT(*) FROM inbox WHERE event_key = $1`, key).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	poller.pollRoom(ctx, desk, ghost, "")
	if got := position(); got != "t5_1" {
		t.Fatalf("position after the first page = %q, want t5_1", got)
	}
	poller.pollRoom(ctx, desk, ghost, "t5_1")
	if got := position(); got != "t7_1" {
		t.Fatalf("position after the second page = %q, want t7_1", got)
	}
	if filed("$r1") != 1 || filed("$r2") != 1 || filed("$m1") != 0 {
		t.Fatalf("inbox has $r1 %d, $r2 %d, $m1 %d times; want 1, 1, 0", filed("$r1"), filed("$r2"), filed("$m1"))
	}
	want := []string{ghost.String() + " f ", ghost.String() + " f t5_1"}
	if fmt.Sprint(hs.asked) != fmt.Sprint(want) {
		t.Fatalf("requests %q, want %q", hs.asked, want)
	}

	// A page whose redaction cannot be filed leaves the position where it was.
	hs.pages["t7_1"] = `{"start":"t7_1","end":"t9_1","chunk":[` + redactionJSON("$r3", desk) + `]}`
	if _, err := bed.b.DB.Exec(ctx, `ALTER TABLE inbox RENAME TO inbox_away`); err != nil {
		t.Fatal(err)
	}
	poller.pollRoom(ctx, desk, ghost, "t7_1")
	if got := position(); got != "t7_1" {
		t.Fatalf("position after a failed filing = %q, want t7_1", got)
	}
	if _, err := bed.b.DB.Exec(ctx, `ALTER TABLE inbox_away RENAME TO inbox`); err != nil {
		t.Fatal(err)
	}
	poller.pollRoom(ctx, desk, ghost, "t7_1")
	if got := position(); got != "t9_1" || filed("$r3") != 1 {
		t.Fatalf("after the retry: position %q, $r3 filed %d times; want t9_1, 1", got, filed("$r3"))
	}
}

func TestNextRoomsTakesRoomsInTurn(t *testing.T) {
	open := map[id.RoomID]id.UserID{}
	total := redactionRoomsPerRound*2 + redactionRoomsPerRound/2
	for i := range total {
		open[id.RoomID(fmt.Sprintf("!r%05d:biz.example", i))] = "@ghost:biz.example"
	}
	p := &redactionPoller{}
	seen := map[id.RoomID]int{}
	for range 3 {
		rooms := p.nextRooms(open)
		if len(rooms) != redactionRoomsPerRound {
			t.Fatalf("a round took %d rooms, want %d", len(rooms), redactionRoomsPerRound)
		}
		for _, room := range rooms {
			seen[room]++
		}
	}
	// Three rounds of 200 over 500 rooms: every room at least once, the first 100 twice.
	if len(seen) != total {
		t.Fatalf("three rounds reached %d of %d rooms", len(seen), total)
	}
	small := map[id.RoomID]id.UserID{"!a:biz.example": "@g:biz.example"}
	if got := p.nextRooms(small); len(got) != 1 {
		t.Fatalf("a round with one open room took %d", len(got))
	}
}

// Dendrite 0.13.8 refuses a forward read without "from"; the poller then starts rooms
// at Dendrite's own start token, and keeps doing so without asking again.
func TestReadPageFallsBackToDendriteRoomStart(t *testing.T) {
	ctx := context.Background()
	bed := newInputBed(t)
	hs := &deskPages{pages: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("from") == "" {
			hs.mu.Lock()
			hs.asked = append(hs.asked, "refused")
			hs.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"errcode":"M_INVALID_PARAM","error":"Invalid from parameter: malformed sync token"}`))
			return
		}
		hs.serve(w, r)
	}))
	t.Cleanup(srv.Close)
	bed.b.Config.Homeserver.Address = srv.URL
	poller := newRedactionPoller(bed.b)
	for range 2 {
		if _, err := poller.readPage(ctx, bed.conv.DeskRoom, bed.conv.Ghost, ""); err != nil {
			t.Fatal(err)
		}
	}
	ghost := bed.conv.Ghost.String()
	want := []string{"refused", ghost + " f " + dendriteRoomStart, ghost + " f " + dendriteRoomStart}
	if fmt.Sprint(hs.asked) != fmt.Sprint(want) {
		t.Fatalf("requests %q, want %q", hs.asked, want)
	}
}
