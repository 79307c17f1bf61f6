package bridge

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/voice"
)

// Voice calls. A customer calls the business identity in their DM (legacy Matrix
// VoIP); the service takes the call with the relay (voice), rings an agent from the
// customer's ghost in the conversation's desk room, and bridges the two legs when
// the agent answers. Call signalling comes in through the inbox like every event
// (callsignal.go) and goes out through the outbox; which agent rings, and what
// happens when nobody answers, is callring.go; what a call leaves behind (the
// calls table, the side room's summary, the contact log) is callevents.go.
//
// Media and the calls' progress are memory only. Each live call has one goroutine
// (its actor) that runs everything that changes it, in order: the relay's events,
// ring timeouts, an agent joining the desk room.

// callManager holds the engine and the live calls of this process.
type callManager struct {
	b    *Bridge
	eng  *voice.Engine
	ring time.Duration
	log  zerolog.Logger
	// ctx lives until the engine is closed and every call's actor ended.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	seq    atomic.Uint64

	mu sync.Mutex
	// Live calls by customer room, by desk room, and the agents ringing or talking.
	byCustomer map[id.RoomID]*liveCall
	byDesk     map[id.RoomID]*liveCall
	onCall     map[id.UserID]*liveCall

	// Legs beside the calls: supervisors and added agents (supervise.go), and
	// the recordings running (recording.go: *liveCall → *liveRecording).
	sv         supervision
	recordings sync.Map
}

// startVoice makes the engine (when calls are on) and hangs up the calls a stop or a
// crash left live in the database: their media died with the process.
func (b *Bridge) startVoice(ctx context.Context) error {
	if !b.Config.Voice.Enabled {
		return nil
	}
	log := b.Log.With().Str("component", "voice").Logger()
	eng, err := voice.New(b.Config.Voice.Media(), log)
	if err != nil {
		return fatal(ExitConfig, "check the voice section", err)
	}
	mctx, cancel := context.WithCancel(log.WithContext(context.WithoutCancel(ctx)))
	b.calls = &callManager{b: b, eng: eng, ring: b.Config.Voice.Ring(), log: log, ctx: mctx, cancel: cancel,
		byCustomer: map[id.RoomID]*liveCall{}, byDesk: map[id.RoomID]*liveCall{}, onCall: map[id.UserID]*liveCall{}}
	return firstErr(b.calls.hangUpLeftovers(ctx), b.closeInterruptedRecordings(ctx))
}

// closeInterruptedRecordings settles the recordings a crash left open: their files
// end where the process stopped writing, and once settled, retention deletes them
// like any other.
func (b *Bridge) closeInterruptedRecordings(ctx context.Context) error {
	open, err := b.DB.Recordings().Unstopped(ctx)
	if err != nil {
		return err
	}
	for _, r := range open {
		var size int64
		if fi, err := os.Stat(filepath.Join(b.Config.Voice.Recordings.Dir, r.Path)); err == nil {
			size = fi.Size()
		}
		if err = b.DB.Recordings().Stop(ctx, r.ID, b.now(), size, 0, "interrupted"); err != nil {
			return err
		}
	}
	return nil
}

// stopVoice hangs up every live call (unknown_error: none is left ringing), waits
// until their media and actors ended, and gives the outbox a moment to send the
// hangups (what it has not sent by then goes out at the next start).
func (b *Bridge) stopVoice() {
	m := b.calls
	if m == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rooms := m.liveRooms()
	if err := m.eng.Close(ctx); err != nil {
		m.log.Warn().Err(err).Msg("Calls did not all end in time")
	}
	done := make(chan struct{})
	go func() {
		m.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
	m.flush(ctx, rooms)
	m.cancel()
}

// liveRooms are the rooms of the live calls: where their hangups go.
func (m *callManager) liveRooms() []id.RoomID {
	m.mu.Lock()
	defer m.mu.Unlock()
	rooms := make([]id.RoomID, 0, len(m.byCustomer)+len(m.byDesk))
	for room := range m.byCustomer {
		rooms = append(rooms, room)
	}
	for room := range m.byDesk {
		rooms = append(rooms, room)
	}
	return rooms
}

// flush waits, until ctx ends, for the outbox to have sent what it holds for the
// rooms.
func (m *callManager) flush(ctx context.Context, rooms []id.RoomID) {
	m.b.outbox.Wake()
	for _, room := range rooms {
		for {
			head, err := m.b.DB.Outbox.Head(ctx, room)
			if err != nil || head == nil {
				break
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}

// VoiceEngine is the relay, nil when calls are off (for tests and benchmarks).
func (b *Bridge) VoiceEngine() *voice.Engine {
	if b.calls == nil {
		return nil
	}
	return b.calls.eng
}

// hangUpLeftovers sends a hangup for every call recorded live, to the customer and
// to every agent still rung or talking, and records the calls as ended.
func (m *callManager) hangUpLeftovers(ctx context.Context) error {
	b := m.b
	live, err := b.DB.Calls().Live(ctx)
	if err != nil || len(live) == 0 {
		return err
	}
	now := b.now()
	for _, call := range live {
		t := b.TenantByID(call.TenantID)
		legs, err := b.DB.Calls().Legs(ctx, call.ID)
		if err != nil {
			return err
		}
		conv, err := b.DB.Conversation.Get(ctx, call.ConversationID)
		if err != nil {
			return err
		}
		err = b.doTxn(ctx, func(ctx context.Context) error {
			if t != nil {
				party := call.CustomerPartyID
				if party == "" {
					party = "cc" + call.CustomerCallID
				}
				if err := m.enqueueCall(ctx, call.CustomerRoom, t.UserID, hangup(call.CustomerCallID, party)); err != nil {
					return err
				}
			}
			for _, l := range legs {
				if !l.EndedAt.IsZero() {
					continue
				}
				if conv != nil {
					if err := m.enqueueCall(ctx, l.DeskRoom, conv.Ghost, hangup(l.LegCallID, l.PartyID)); err != nil {
						return err
					}
				}
				if err := b.DB.Calls().EndLeg(ctx, call.ID, l.LegCallID, "failed", now); err != nil {
					return err
				}
			}
			_, err := b.DB.Calls().End(ctx, call.ID, database.OutcomeFailed, string(voice.ReasonUnknownError), "service", "", now)
			return err
		})
		if err != nil {
			return err
		}
		m.log.Info().Int64("call", call.ID).Msg("Hung up a call the last stop left live")
	}
	b.outbox.Wake()
	return nil
}

func hangup(callID, party string) *voice.Hangup {
	return &voice.Hangup{Common: voice.Common{CallID: callID, PartyID: party, Version: "1"}, Reason: voice.ReasonUnknownError}
}

// enqueueCall queues one call event, raw content with version "1" (see voice.Encode),
// in the caller's transaction if ctx carries one. In an encrypted customer room the
// sender encrypts it like any event.
func (m *callManager) enqueueCall(ctx context.Context, room id.RoomID, sender id.UserID, msg voice.Message) error {
	typ, content, err := voice.Encode(msg)
	if err != nil {
		return err
	}
	key := outboxKey("call", room, voice.CallID(msg), voice.PartyID(msg), m.seq.Add(1), m.b.now().UnixNano())
	return m.b.DB.Outbox.Enqueue(ctx, key, room, sender, event.Type{Type: typ, Class: event.MessageEventType}, json.RawMessage(content), m.b.now())
}

// sender is a leg's Send: the relay's events go out through the outbox, one room's
// in order. It runs on the relay's goroutines, outside any transaction.
func (m *callManager) sender(room id.RoomID, as id.UserID) func(voice.Message) {
	return func(msg voice.Message) {
		if err := m.enqueueCall(m.ctx, room, as, msg); err != nil {
			m.log.Error().Err(err).Stringer("room_id", room).Str("type", msg.EventType()).Msg("Could not queue a call event")
			return
		}
		m.b.outbox.Wake()
	}
}
