package transport

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync/atomic"

	"github.com/rs/zerolog"
)

// panicGuard turns panics into errors, so that one bad event or bug costs its row and
// not the process or the room's queue behind it.
type panicGuard struct {
	count   atomic.Int64
	onPanic func(where string)
}

// call runs fn, turning a panic into an ErrPanicked error, logged with its stack.
func (g *panicGuard) call(ctx context.Context, what string, fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			g.count.Add(1)
			if g.onPanic != nil {
				g.onPanic(what)
			}
			zerolog.Ctx(ctx).Error().Str("in", what).Any("panic", r).Bytes("stack", debug.Stack()).Msg("Recovered from a panic")
			err = fmt.Errorf("%w: %v", ErrPanicked, r)
		}
	}()
	return fn()
}

// run is call for work that returns nothing: the panic is logged and counted.
func (g *panicGuard) run(ctx context.Context, what string, fn func()) {
	_ = g.call(ctx, what, func() error {
		fn()
		return nil
	})
}
