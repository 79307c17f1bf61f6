package bridge

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
)

const (
	// redactionPageLimit is how many events one /messages request reads. The request
	// carries no type filter: Dendrite 0.13.8 applies it after picking the page's
	// events and then returns no "end" for a page without a redaction, so a filtered
	// read would never get past a stretch of other events.
	redactionPageLimit = 100
	// redactionRequestTimeout keeps one slow room from holding up a round for long.
	redactionRequestTimeout = 30 * time.Second
	// dendriteRoomStart is Dendrite's token for the start of a room's timeline. The
	// spec lets a forward read without "from" start there, but Dendrite 0.13.8 refuses
	// one (it parses the empty token), so the poller falls back to this after a 400.
	dendriteRoomStart = "t0_0"
)

// redactionPoller reads desk rooms for redactions with one shared client, acting as
// each room's ghost through the appservice's user_id parameter.
type redactionPoller struct {
	b         *Bridge
	cli       *mautrix.Client
	positions *database.RedactionPositionQuery
	// after is the room the last round ended at, when rounds take the rooms in turn.
	after id.RoomID
	// fromRequired is set once the homeserver refused a page without "from".
	fromRequired atomic.Bool
}

func newRedactionPoller(b *Bridge) *redactionPoller {
	cli := b.newClient(b.AS.BotMXID())
	cli.AccessToken = b.Config.Appservice.ASToken
	cli.SetAppServiceUserID = false // each request names its ghost
	return &redactionPoller{b: b, cli: cli, positions: b.DB.RedactionPositions}
}

// pollRoom reads a desk room's events after from, files its redactions in the inbox
// under their event ID (so one also seen elsewhere is handled once), and moves the
// room's position on only when every one of them is filed.
func (p *redactionPoller) pollRoom(ctx context.Context, room id.RoomID, ghost id.UserID, from string) {
	log := zerolog.Ctx(ctx).With().Stringer("room_id", room).Logger()
	ctx, cancel := context.WithTimeout(log.WithContext(ctx), redactionRequestTimeout)
	defer cancel()
	page, err := p.readPage(ctx, room, ghost, from)
	if err != nil {
		// A room just created may not have its ghost joined yet; the next round asks again.
		log.Debug().Err(err).Msg("Could not read a desk room's events for redactions")
		return
	}
	for _, evt := range page.Chunk {
		if evt == nil || evt.Type.Type != event.EventRedaction.Type || evt.ID == "" {
			continue
		}
		if evt.RoomID == "" {
			evt.RoomID = room
		} else if evt.RoomID != room {
			continue
		}
		raw, err := json.Marshal(evt)
		if err != nil {
			continue
		}
		if p.b.fileSynced(ctx, evt.ID.String(), room, raw, "Could not file a redaction; its room is read again from the same position") != nil {
			return
		}
	}
	// Without events there is no "end" (Dendrite, and the spec when nothing follows).
	if page.End == "" || page.End == from {
		return
	}
	if err = p.positions.Save(ctx, &database.RedactionPosition{RoomID: room, Position: page.End}); err != nil {
		log.Debug().Err(err).Msg("Could not save a redaction position; the room's page is read again")
	}
}

// readPage asks for a room's events after from (the room's start when empty), as the
// room's ghost.
func (p *redactionPoller) readPage(ctx context.Context, room id.RoomID, ghost id.UserID, from string) (*mautrix.RespMessages, error) {
	if from == "" && p.fromRequired.Load() {
		from = dendriteRoomStart
	}
	address := p.cli.BuildURLWithFullQuery(mautrix.ClientURLPath{"v3", "rooms", room, "messages"}, func(q url.Values) {
		q.Set("user_id", ghost.String())
		q.Set("dir", "f")
		q.Set("limit", strconv.Itoa(redactionPageLimit))
		if from != "" {
			q.Set("from", from)
		}
	})
	var page mautrix.RespMessages
	_, err := p.cli.MakeFullRequest(ctx, mautrix.FullRequest{Method: http.MethodGet, URL: address, ResponseJSON: &page, MaxAttempts: 1})
	if from == "" && errors.Is(err, mautrix.MInvalidParam) {
		p.fromRequired.Store(true)
		return p.readPage(ctx, room, ghost, dendriteRoomStart)
	}
	return &page, err
}
