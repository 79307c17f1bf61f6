package browser

import (
	"context"
	"encoding/json"
	"time"
)

// Goto loads url in the page.
func (b *Browser) Goto(ctx context.Context, url string) error {
	return b.call(ctx, "goto", map[string]any{"url": url}, 30*time.Second, nil)
}

// WaitText waits until the element selector matches contains text and returns the
// element's whole text. frame, if not empty, looks in the first frame whose URL
// starts with it instead of the page.
func (b *Browser) WaitText(ctx context.Context, frame, selector, text string, timeout time.Duration) (string, error) {
	var res struct{ Text string }
	err := b.call(ctx, "waitText", map[string]any{"selector": selector, "text": text, "frame": frame, "timeoutMs": timeout.Milliseconds()},
		timeout+5*time.Second, &res)
	return res.Text, err
}

// Eval evaluates a JavaScript expression in the page (or frame, as WaitText) and
// decodes its JSON value into out, if not nil. A promise is awaited.
func (b *Browser) Eval(ctx context.Context, frame, expression string, out any) error {
	var res struct{ Value json.RawMessage }
	if err := b.call(ctx, "evaluate", map[string]any{"expression": expression, "frame": frame}, 30*time.Second, &res); err != nil {
		return err
	}
	if out == nil || len(res.Value) == 0 {
		return nil
	}
	return json.Unmarshal(res.Value, out)
}

// Screenshot writes a PNG of the whole page to path.
func (b *Browser) Screenshot(ctx context.Context, path string) error {
	return b.call(ctx, "screenshot", map[string]any{"path": path}, 30*time.Second, nil)
}
