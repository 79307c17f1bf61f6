package bridge

import (
	"context"
	"fmt"
	"net/http"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// maxMediaSize bounds what the service copies for staff (a customer's file is held in
// memory while copied).
const maxMediaSize = 50 << 20

// copyMedia replaces a customer's media with a copy on the business homeserver,
// uploaded as the ghost, decrypted if it was encrypted: staff rooms are not encrypted,
// and the original's mxc URI names the customer's homeserver. Thumbnails are dropped
// (clients make their own from the copy).
func (b *Bridge) copyMedia(ctx context.Context, t *Tenant, ghost id.UserID, msg *event.MessageEventContent) error {
	if msg.URL == "" && msg.File == nil {
		return nil
	}
	src := msg.URL
	if msg.File != nil {
		src = msg.File.URL
	}
	uri, err := src.Parse()
	if err != nil {
		return permanent(fmt.Errorf("media URI: %w", err))
	}
	data, err := t.Client.DownloadBytes(ctx, uri)
	if err != nil {
		return fmt.Errorf("downloading the customer's media: %w", err)
	}
	if len(data) > maxMediaSize {
		return permanent(fmt.Errorf("media of %d bytes is over the limit", len(data)))
	}
	if msg.File != nil {
		if err = msg.File.DecryptInPlace(data); err != nil {
			return permanent(fmt.Errorf("decrypting the customer's media: %w", err))
		}
	}
	mimeType := http.DetectContentType(data)
	if msg.Info != nil && msg.Info.MimeType != "" {
		mimeType = msg.Info.MimeType
	}
	resp, err := b.AS.Intent(ghost).UploadBytesWithName(ctx, data, mimeType, msg.GetFileName())
	if err != nil {
		return fmt.Errorf("uploading the copy: %w", err)
	}
	msg.URL = resp.ContentURI.CUString()
	msg.File = nil
	if msg.Info != nil {
		info := *msg.Info
		info.ThumbnailURL, info.ThumbnailFile, info.ThumbnailInfo = "", nil, nil
		msg.Info = &info
	}
	return nil
}
