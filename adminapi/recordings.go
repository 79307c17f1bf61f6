package adminapi

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/contactcenter/contactcenter/database"
)

// Call recordings, made only with the customer's consent: listed per conversation
// and downloaded one direction at a time (an Ogg/Opus file as it was written). A
// recording is its directions started together; its ID is the ID of its first
// direction's row. Another tenant's recordings answer 404, like ones that never were.

// ErrInProgress is the errcode of a 409: the recording is still being written.
const ErrInProgress = "CC_IN_PROGRESS"

// recordingDirections are the directions a recording may hold.
var recordingDirections = []string{"customer", "agent"}

// SetRecordingsDir tells where the recording files are (voice.recordings.dir); with
// none, no recording can be downloaded.
func (h *Handler) SetRecordingsDir(dir string) { h.recordingsDir = dir }

// RecordingOut is one recording as the API lists it.
type RecordingOut struct {
	ID           int64                   `json:"id"`
	Call         int64                   `json:"call"`
	Conversation int64                   `json:"conversation"`
	StartedAt    time.Time               `json:"started_at"`
	StoppedAt    time.Time               `json:"stopped_at,omitzero"`
	StopReason   string                  `json:"stop_reason,omitempty"`
	Directions   map[string]DirectionOut `json:"directions"`
}

// DirectionOut is one recorded direction: its size, how long it plays, and where
// to download it (relative to the API's root).
type DirectionOut struct {
	Bytes      int64  `json:"bytes"`
	DurationMS int64  `json:"duration_ms"`
	Path       string `json:"path"`
}

// GET recordings?conversation=<id>: the conversation's recordings, oldest first.
func (h *Handler) listRecordings(c *call) (int, any, *apiError) {
	if apiErr := checkQuery(c.r, "conversation"); apiErr != nil {
		return 0, nil, apiErr
	}
	conv, err := strconv.ParseInt(c.r.URL.Query().Get("conversation"), 10, 64)
	if err != nil || conv <= 0 {
		return 0, nil, invalid("conversation", "must be a conversation ID")
	}
	rows, err := h.db.Recordings().OfConversation(c.r.Context(), c.tenant.ID, conv)
	if err != nil {
		return 0, nil, internal("listing recordings", err)
	}
	return http.StatusOK, map[string]any{"recordings": groupRecordings(rows)}, nil
}

// groupRecordings joins the directions of each recording (same call, same start),
// in the order of their first rows.
func groupRecordings(rows []*database.Recording) []RecordingOut {
	type key struct {
		call    int64
		started int64
	}
	out := []RecordingOut{}
	at := map[key]int{}
	for _, r := range rows {
		k := key{r.Call, r.StartedAt.UnixMilli()}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, RecordingOut{ID: r.ID, Call: r.Call, Conversation: r.Conversation, StartedAt: r.StartedAt.UTC(),
				Directions: map[string]DirectionOut{}})
		}
		rec := &out[i]
		if !r.StoppedAt.IsZero() && (rec.StoppedAt.IsZero() || r.StoppedAt.After(rec.StoppedAt)) {
			rec.StoppedAt, rec.StopReason = r.StoppedAt.UTC(), r.StopReason
		}
		rec.Directions[r.Direction] = DirectionOut{Bytes: r.Bytes, DurationMS: r.Duration.Milliseconds(),
			Path: fmt.Sprintf("recordings/%d/%s", rec.ID, r.Direction)}
	}
	return out
}

// GET recordings/{id}/{direction}: the direction's Ogg/Opus file (ranges allowed).
func (h *Handler) getRecording(c *call) (int, any, *apiError) {
	if apiErr := checkQuery(c.r); apiErr != nil {
		return 0, nil, apiErr
	}
	recID, apiErr := idParam(c, "id")
	if apiErr != nil {
		return 0, nil, apiErr
	}
	direction := c.params[1]
	known := false
	for _, d := range recordingDirections {
		known = known || d == direction
	}
	if !known {
		return 0, nil, invalid("direction", "must be customer or agent")
	}
	rec, err := h.db.Recordings().Direction(c.r.Context(), c.tenant.ID, recID, direction)
	if err != nil {
		return 0, nil, internal("reading a recording", err)
	}
	if rec == nil || h.recordingsDir == "" || !filepath.IsLocal(rec.Path) {
		return 0, nil, notFoundErr("id", "no recording %d with a %s direction", recID, direction)
	}
	if rec.StoppedAt.IsZero() {
		return 0, nil, &apiError{status: http.StatusConflict, code: ErrInProgress, field: "id",
			msg: "the recording is still being written; download it once the call or the recording ended"}
	}
	f, err := os.Open(filepath.Join(h.recordingsDir, rec.Path))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil, notFoundErr("id", "recording %d's %s file is gone", recID, direction)
	}
	if err != nil {
		return 0, nil, internal("opening a recording", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, nil, internal("opening a recording", err)
	}
	// A recording is personal data: who fetched which one is logged.
	zerolog.Ctx(c.r.Context()).Info().Str("tenant", c.tenant.ID).Str("key", c.who.label).Int64("recording", recID).
		Str("direction", direction).Msg("Recording downloaded")
	name := fmt.Sprintf("recording-%d-%s.ogg", recID, direction)
	hd := c.w.Header()
	hd.Set("Content-Type", "audio/ogg; codecs=opus")
	hd.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(c.w, c.r, name, fi.ModTime(), f)
	return answered, nil, nil
}
