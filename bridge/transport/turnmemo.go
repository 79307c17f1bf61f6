package transport

import "context"

// turnMemo is what the handler of a room's entry leaves for the handler of the next
// entry in the same turn: the room's state as read for the first, so that a room whose
// events come in bursts is not read again for each of them.
//
// Reusing it is as good as reading anew: a turn is one room's, with its lease held
// throughout, and every entry of the turn was received before the turn began, so a
// state read while handling one of them was read after all of them had arrived —
// which is all a fresh read would promise of changes made elsewhere. What the room's
// own entries change is the handlers' to judge: a handler keeps a value only when its
// commit left that state as it was; any other entry, a failure and the turn's end
// drop it. The turn's first entry may find the room's state read with the turn's
// entries (Config.ReadTurn): read after all of them had arrived, too.
type turnMemo struct{ value any }

type turnMemoKey struct{}

// withTurnMemo gives a turn its memo.
func withTurnMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, turnMemoKey{}, &turnMemo{})
}

func turnMemoOf(ctx context.Context) *turnMemo {
	memo, _ := ctx.Value(turnMemoKey{}).(*turnMemo)
	return memo
}

// take returns the value left and drops it: whatever the job does, the value is left
// again only if the job keeps it.
func (m *turnMemo) take() any {
	if m == nil {
		return nil
	}
	v := m.value
	m.value = nil
	return v
}

// leave keeps v for the turn's next entry.
func (m *turnMemo) leave(v any) {
	if m != nil {
		m.value = v
	}
}
