package browser

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/contactcenter/contactcenter/testclient/jsclient"
)

// StartBlank starts Chromium and the driver like Start, but on a blank page and
// without building the call page: for tests of other pages, driven with Goto,
// WaitText, Eval and Screenshot.
func StartBlank(ctx context.Context, opts Options) (b *Browser, err error) {
	exe, err := executable(opts.Executable)
	if err != nil {
		return nil, err
	}
	project, err := ProjectDir()
	if err != nil {
		return nil, err
	}
	if err := Ensure(ctx); err != nil {
		return nil, err
	}
	b = &Browser{ToneHz: opts.ToneHz, dir: opts.Dir}
	if b.dir == "" {
		if b.dir, err = os.MkdirTemp("", "browserpage-"); err != nil {
			return nil, err
		}
		b.removeDir = true
	}
	defer func() {
		if err != nil {
			b.Close()
			b = nil
		}
	}()
	if opts.ToneHz == 0 {
		opts.ToneHz = 440
	}
	wav := filepath.Join(b.dir, "tone.wav")
	if err = WriteToneWAV(wav, opts.ToneHz, 2*time.Second); err != nil {
		return nil, err
	}
	if b.chrome, err = startChromium(ctx, exe, b.dir, flags(wav, opts.ExtraFlags)); err != nil {
		return nil, err
	}
	if b.drv, err = jsclient.StartDriver(ctx, project, "driver.mjs"); err != nil {
		return nil, err
	}
	if err = b.call(ctx, "connect", map[string]any{"endpoint": b.chrome.endpoint}, 30*time.Second, nil); err != nil {
		return nil, err
	}
	return b, nil
}

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
