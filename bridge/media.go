package bridge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/bot"
)

// maxMediaSize bounds what the service copies for staff (a customer's file is held in
// memory while copied). A variable so that tests can lower it.
var maxMediaSize int64 = 50 << 20

// copyMedia replaces a customer's media with a copy on the business homeserver,
// uploaded as the ghost, decrypted if it was encrypted: staff rooms are not encrypted,
// and the original's mxc URI names the customer's homeserver. Thumbnails are dropped
// (clients make their own from the copy).
//
// Nothing the customer declared about the file reaches the copy: its type is read from
// its bytes (copyType) and its stored name follows from the type, so neither the
// customer's Matrix ID in a file name nor a type a browser would run (HTML, SVG) is
// ever served from the business homeserver. The event keeps the file name, through
// the privacy filter.
//
// A file that cannot be copied (too large, gone, unreadable) becomes a notice to staff
// that it did not come, and the refusal is returned for the customer to be told why
// (tellMediaRefusal); an error that may pass (the network, a server error) is
// returned, for the inbox to retry.
func (b *Bridge) copyMedia(ctx context.Context, t *Tenant, ghost id.UserID, msg *event.MessageEventContent) (mediaRefusal, error) {
	src := mediaSource(msg)
	if src == "" {
		return mediaCopied, nil
	}
	data, refusal, err := fetchMedia(ctx, t, src, msg.File)
	if err != nil {
		return mediaCopied, err
	}
	if refusal != mediaCopied {
		zerolog.Ctx(ctx).Warn().Str("reason", refusal.String()).Msg("A customer's media is not copied for staff")
		*msg = event.MessageEventContent{MsgType: event.MsgNotice, Body: bot.MediaNotRelayed(msg.GetFileName(), refusal.forStaff()),
			RelatesTo: msg.RelatesTo}
		return refusal, nil
	}
	mimeType := copyType(data)
	resp, err := b.AS.Intent(ghost).UploadBytesWithName(ctx, data, mimeType, copyName(mimeType))
	if err != nil {
		return mediaCopied, fmt.Errorf("uploading the copy: %w", err)
	}
	msg.URL = resp.ContentURI.CUString()
	msg.File = nil
	var info event.FileInfo
	if msg.Info != nil {
		info = *msg.Info
	}
	info.ThumbnailURL, info.ThumbnailFile, info.ThumbnailInfo = "", nil, nil
	info.MimeType, info.Size = mimeType, len(data)
	msg.Info = &info
	return mediaCopied, nil
}

// mediaSource is the mxc URI of a message's media, or "" if it has none.
func mediaSource(msg *event.MessageEventContent) id.ContentURIString {
	if msg.File != nil {
		return msg.File.URL
	}
	return msg.URL
}

// fetchMedia downloads a customer's file, reading at most one byte past the limit,
// and decrypts it if it is encrypted. It says why when the file cannot be had at all.
func fetchMedia(ctx context.Context, t *Tenant, src id.ContentURIString, file *event.EncryptedFileInfo) ([]byte, mediaRefusal, error) {
	uri, err := src.Parse()
	if err != nil {
		return nil, mediaUnavailable, nil
	}
	resp, err := t.Client.Download(ctx, uri)
	if err != nil {
		if refusal, final := downloadRefusal(err); final {
			return nil, refusal, nil
		}
		return nil, mediaCopied, fmt.Errorf("downloading the customer's media: %w", err)
	}
	defer resp.Body.Close()
	if resp.ContentLength > maxMediaSize {
		return nil, mediaTooLarge, nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxMediaSize+1))
	if err != nil {
		return nil, mediaCopied, fmt.Errorf("reading the customer's media: %w", err)
	}
	if int64(len(data)) > maxMediaSize {
		return nil, mediaTooLarge, nil
	}
	if file != nil {
		if err = file.DecryptInPlace(data); err != nil {
			zerolog.Ctx(ctx).Warn().Err(err).Msg("A customer's media does not decrypt")
			return nil, mediaUnavailable, nil
		}
	}
	return data, mediaCopied, nil
}

// downloadRefusal tells whether a failed download is final: the customer's server (or
// ours, fetching it over federation) refused or lost the file. Rate limits and server
// and network errors may pass.
func downloadRefusal(err error) (mediaRefusal, bool) {
	var httpErr mautrix.HTTPError
	if !errors.As(err, &httpErr) || httpErr.Response == nil {
		return mediaCopied, false
	}
	switch status := httpErr.Response.StatusCode; {
	case status == http.StatusRequestEntityTooLarge || errors.Is(err, mautrix.MTooLarge):
		return mediaTooLarge, true
	case status == http.StatusTooManyRequests || status == http.StatusRequestTimeout:
		return mediaCopied, false
	case status >= 400 && status < 500:
		return mediaUnavailable, true
	}
	return mediaCopied, false
}

// copyTypes are the types a copy may be served as, with the extension of the name it
// is stored under: media clients show, documents, plain text. Anything else, above all
// anything a browser would run (HTML, SVG, XML), is served as a download.
var copyTypes = map[string]string{
	"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp", "image/bmp": "bmp",
	"audio/mpeg": "mp3", "audio/wave": "wav", "audio/ogg": "ogg", "audio/aiff": "aiff", "audio/basic": "au", "audio/midi": "mid",
	"video/mp4": "mp4", "video/webm": "webm", "video/avi": "avi",
	"application/pdf":              "pdf",
	"text/plain; charset=utf-8":    "txt",
	"text/plain; charset=utf-16be": "txt",
	"text/plain; charset=utf-16le": "txt",
}

// copyType reads a copy's type from its bytes (the WHATWG sniffing rules), limited to
// copyTypes. Ogg, which the rules call application/ogg, is served as audio: clients
// play voice messages only with an audio type. Text that starts like markup (SVG and
// XML pass the rules as text) is served as a download, in case anything sniffs it.
func copyType(data []byte) string {
	sniffed := http.DetectContentType(data)
	switch {
	case sniffed == "application/ogg":
		sniffed = "audio/ogg"
	case strings.HasPrefix(sniffed, "text/") && bytes.HasPrefix(bytes.TrimLeft(data, "\ufeff \t\r\n"), []byte("<")):
		return "application/octet-stream"
	}
	if _, ok := copyTypes[sniffed]; ok {
		return sniffed
	}
	return "application/octet-stream"
}

// copyName is the name a copy is stored under: one that says nothing of the customer.
func copyName(mimeType string) string {
	if ext, ok := copyTypes[mimeType]; ok {
		return "file." + ext
	}
	return "file"
}
