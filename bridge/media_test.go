package bridge

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/crypto/attachment"
	"maunium.net/go/mautrix/event"
)

// pngHeader is the start of a PNG file, enough for content sniffing.
var pngHeader = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89")

// The copy of a customer's file is stored on the business homeserver under a name
// without the customer's Matrix ID or server, and with a type read from its bytes
// from an allow-list, never the one the customer declared: nothing the customer sends
// makes the business origin serve HTML or SVG.
func TestCustomerMediaCopyCarriesNoCustomerNameOrType(t *testing.T) {
	tests := []struct {
		name, declared string
		data           []byte
		want           string
	}{
		{"HTML declared as HTML", "text/html", []byte("<html><body><script>alert(1)</script></body></html>"), "application/octet-stream"},
		{"SVG with a script", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "application/octet-stream"},
		{"PNG declared as HTML", "text/html", pngHeader, "image/png"},
		{"PDF declared as HTML", "text/html", []byte("%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"), "application/pdf"},
		{"text declared as a program", "application/x-msdownload", []byte("statement contents\n"), "text/plain; charset=utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bed := newInputBed(t)
			fileName := "statement of @bob:Home.Example"
			uri := bed.hs.put("m1", fakeMedia{data: tt.data, contentType: tt.declared})
			evtID := bed.send(t, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgFile, Body: fileName, FileName: fileName,
				URL: uri, Info: &event.FileInfo{MimeType: tt.declared, Size: len(tt.data)}})
			if done, lastErr := bed.handled(t, evtID); !done {
				t.Fatalf("the file was not handled: %s", lastErr)
			}
			upload, n := bed.hs.lastUpload()
			if n != 1 || string(upload.data) != string(tt.data) {
				t.Fatalf("%d uploads; the copy holds %q", n, upload.data)
			}
			if upload.contentType != tt.want {
				t.Errorf("the copy is stored as %q, want %q", upload.contentType, tt.want)
			}
			if name := strings.ToLower(upload.name); strings.Contains(name, "bob") || strings.Contains(name, "home.example") {
				t.Errorf("the copy is stored under the name %q", upload.name)
			}
			desk := bed.queuedFor(t, bed.conv.DeskRoom, evtID)
			if len(desk) != 1 {
				t.Fatalf("desk copies: %+v", desk)
			}
			msg := desk[0].message()
			if msg.Info == nil || msg.Info.MimeType != tt.want || msg.URL != "mxc://biz.example/copy1" {
				t.Errorf("the desk copy says %+v (info %+v), want the copy with type %q", msg, msg.Info, tt.want)
			}
			if strings.Contains(strings.ToLower(desk[0].content), "home.example") {
				t.Errorf("the desk copy names the customer: %s", desk[0].content)
			}
		})
	}
}

// A customer's file the service cannot relay (too large, gone, unreadable) is not
// retried for ten minutes nor blamed on encryption: the customer is told why at once,
// and staff see that a file did not come. A file too large is refused after reading
// just past the limit, not after reading it all. A server error is retried.
func TestMediaThatCannotBeRelayedIsToldToTheCustomer(t *testing.T) {
	defer func(limit int64) { maxMediaSize = limit }(maxMediaSize)
	maxMediaSize = 256 << 10
	const streamed = 64 << 20

	badHash := attachment.NewEncryptedFile()
	sealed := badHash.Encrypt([]byte("statement contents"))
	badHash.Hashes.SHA256 = base64.RawStdEncoding.EncodeToString(make([]byte, 32))

	tests := []struct {
		name  string
		media fakeMedia
		file  *attachment.EncryptedFile
		// told is what the customer must hear ("" for nothing yet: the event is retried).
		told string
	}{
		{"too large, without a length", fakeMedia{stream: streamed}, nil, "too large"},
		{"too large, with a length", fakeMedia{data: make([]byte, maxMediaSize+1), contentType: "application/pdf"}, nil, "too large"},
		{"gone", fakeMedia{status: 404}, nil, "could not be fetched"},
		{"refused by the customer's server", fakeMedia{status: 403}, nil, "could not be fetched"},
		{"encrypted, does not decrypt", fakeMedia{data: sealed, contentType: "application/octet-stream"}, badHash, "could not be fetched"},
		{"server error", fakeMedia{status: 502}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bed := newInputBed(t)
			uri := bed.hs.put("m1", tt.media)
			content := &event.MessageEventContent{MsgType: event.MsgFile, Body: "statement.pdf", URL: uri}
			if tt.file != nil {
				content.URL = ""
				content.File = &event.EncryptedFileInfo{EncryptedFile: *tt.file, URL: uri}
			}
			evtID := bed.send(t, event.EventMessage, content)
			done, lastErr := bed.handled(t, evtID)
			told := bed.queuedFor(t, bedCustomerRoom, evtID)
			desk := bed.queuedFor(t, bed.conv.DeskRoom, evtID)

			if tt.told == "" {
				if done || lastErr == "" || len(told) != 0 || len(desk) != 0 {
					t.Fatalf("a server error must be retried quietly: handled %v (%s), told %+v, desk %+v", done, lastErr, told, desk)
				}
				return
			}
			if !done || lastErr != "" {
				t.Fatalf("the event was not handled at once: handled %v, error %q", done, lastErr)
			}
			if len(told) != 1 || told[0].message().MsgType != event.MsgNotice || !strings.Contains(told[0].message().Body, tt.told) {
				t.Fatalf("the customer was told %+v, want a notice saying %q", told, tt.told)
			}
			if strings.Contains(told[0].content, "encrypt") || strings.Contains(told[0].content, "keys") {
				t.Errorf("the customer is told about encryption: %s", told[0].content)
			}
			if len(desk) != 1 {
				t.Fatalf("staff were not told that a file did not come: %+v", desk)
			}
			if msg := desk[0].message(); msg.URL != "" || msg.File != nil || !strings.Contains(msg.Body, "statement.pdf") {
				t.Errorf("the desk copy of a file that did not come: %s", desk[0].content)
			}
			if _, n := bed.hs.lastUpload(); n != 0 {
				t.Errorf("%d copies uploaded", n)
			}
			if tt.media.stream > 0 {
				select {
				case <-bed.hs.streamDone:
				case <-time.After(10 * time.Second):
					t.Fatal("the stream never ended")
				}
				bed.hs.mu.Lock()
				read := bed.hs.streamed
				bed.hs.mu.Unlock()
				t.Logf("%d of %d bytes were sent before the service hung up", read, streamed)
				if read > streamed/4 {
					t.Errorf("%d of %d bytes were read to refuse a file over %d bytes", read, streamed, maxMediaSize)
				}
			}
		})
	}
}
