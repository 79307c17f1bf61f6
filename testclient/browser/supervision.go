package browser

import (
	"context"
	"fmt"
	"time"
)

// ToneLevel is how strongly one frequency stood out of the remote audio over a
// window: the best reading and how many readings passed the detection threshold.
type ToneLevel struct {
	FreqHz   float64 `json:"freqHz"`
	MaxSNRDB float64 `json:"maxSnrDb"`
	Above    int     `json:"above"`
}

// ToneLevels samples the remote audio (every remote stream of the call, mixed as
// the ear would) for d and reports each frequency's level.
func (b *Browser) ToneLevels(ctx context.Context, freqs []float64, d time.Duration) (samples int, levels []ToneLevel, err error) {
	var res struct {
		Samples int         `json:"samples"`
		Tones   []ToneLevel `json:"tones"`
	}
	err = b.call(ctx, "toneLevels", map[string]any{"freqs": freqs, "durationMs": d.Milliseconds()}, d+30*time.Second, &res)
	return res.Samples, res.Tones, err
}

// Feed is one remote stream of the current call as matrix-js-sdk keeps it.
type Feed struct {
	StreamID    string `json:"streamId"`
	Purpose     string `json:"purpose"`
	AudioTracks int    `json:"audioTracks"`
	AudioMuted  bool   `json:"audioMuted"`
}

// RemoteFeeds lists the current call's remote feeds.
func (b *Browser) RemoteFeeds(ctx context.Context) ([]Feed, error) {
	var fs []Feed
	return fs, b.call(ctx, "remoteFeeds", nil, 0, &fs)
}

// SendText sends a text message to roomID.
func (b *Browser) SendText(ctx context.Context, roomID, body string) error {
	return b.call(ctx, "sendText", map[string]any{"roomId": roomID, "body": body}, 30*time.Second, nil)
}

// HearsToneAmong waits until freqHz stands out of the remote audio, which may
// hold other tones too (a supervisor hears the customer and the agent at once).
func (b *Browser) HearsToneAmong(ctx context.Context, freqHz float64, timeout time.Duration) (*ToneLevel, error) {
	deadline := time.Now().Add(timeout)
	for {
		n, ls, err := b.ToneLevels(ctx, []float64{freqHz}, time.Second)
		if err != nil {
			return nil, err
		}
		if n > 0 && ls[0].Above >= n/2 {
			return &ls[0], nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("browser: %v Hz not heard among the remote audio within %s (last %+v over %d readings)", freqHz, timeout, ls, n)
		}
	}
}
