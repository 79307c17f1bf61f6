package bridge

import (
	"bytes"
	"encoding/json"
	"net/url"

	"maunium.net/go/mautrix/id"
)

// hiddenID replaces a customer's Matrix ID or homeserver name in what staff see.
const hiddenID = "[hidden]"

// privacyFilter removes a customer's Matrix ID and homeserver name from event content
// bound for a staff room, in every field and in the encodings that links use. It works
// on the whole JSON, so no field (body, formatted body, file name, mentions, anything
// a client adds) can slip through.
type privacyFilter struct {
	replacer [][2][]byte
}

func newPrivacyFilter(customer id.UserID) *privacyFilter {
	f := &privacyFilter{}
	for _, s := range []string{customer.String(), customer.Homeserver()} {
		if s == "" {
			continue
		}
		for _, form := range []string{s, url.PathEscape(s), url.QueryEscape(s)} {
			f.replacer = append(f.replacer, [2][]byte{[]byte(form), []byte(hiddenID)})
		}
	}
	return f
}

// apply marshals content and filters it.
func (f *privacyFilter) apply(content any) (json.RawMessage, error) {
	data, err := json.Marshal(content)
	if err != nil {
		return nil, err
	}
	for _, r := range f.replacer {
		data = bytes.ReplaceAll(data, r[0], r[1])
	}
	return data, nil
}
