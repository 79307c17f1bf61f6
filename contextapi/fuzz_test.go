package contextapi

import (
	"encoding/json"
	"reflect"
	"testing"
)

// decoders are the four request decoders with one signature: decode and validate the
// body, and return the normalised request or the error answer.
var decoders = []struct {
	name   string
	decode func(body []byte) (any, *apiError)
}{
	{"customer", func(b []byte) (any, *apiError) { return decodeCustomer(b) }},
	{"pageviews", func(b []byte) (any, *apiError) {
		views, err := decodePageViews(b, testNow)
		if err != nil {
			return nil, err
		}
		// Re-encoded as a batch, which must decode to the same views.
		return pageViewsBody{Views: views}, nil
	}},
	{"linkcode", func(b []byte) (any, *apiError) { return decodeLinkCode(b) }},
	{"visitorcode", func(b []byte) (any, *apiError) { return decodeVisitorCode(b) }},
}

// FuzzDecode feeds arbitrary bytes to each endpoint's decoder: it must never panic,
// must refuse with a 4xx errcode, or accept a request that, encoded again, is accepted
// again as the very same request (so normalising is stable and nothing valid is
// refused once written out the way the API documents it).
func FuzzDecode(f *testing.F) {
	seeds := []string{
		`{}`, `null`, `[]`, `{}{}`, `{"name":"Ann","products":["a"],"matrix_ids":["@a:b.c"]}`,
		`{"account_manager":"@carol:[::1]:8448","tier":"gold"}`,
		`{"account_id":"c1","url":"https://bank.example/a","title":"A","time":"2025-03-14T10:00:00+01:00"}`,
		`{"visitor_code":"visit 7k3q 9p2m 4xza","url":"http://x.example"}`,
		`{"views":[{"account_id":"c1","url":"https://x.example/"},{"visitor_code":"VISIT-7K3Q-9P2M-4XZA","url":"https://x.example/b"}]}`,
		`{"views":[]}`, `{"account_id":"c1","ttl_seconds":600}`, `{"ttl_seconds":86400}`, `{"ttl_seconds":1e3}`,
		`{"TTL_seconds":1}`, `{"ttl_seconds":1,"ttl_seconds":2}`, "{\"name\":\"\xff\"}", `{"name":"\ud800"}`,
	}
	for _, s := range seeds {
		for i := range decoders {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		d := decoders[int(which)%len(decoders)]
		req, err := d.decode(body)
		if err != nil {
			if err.status < 400 || err.status > 499 || err.code == "" || err.msg == "" {
				t.Fatalf("%s: error answer %+v", d.name, err)
			}
			return
		}
		encoded, jsonErr := json.Marshal(req)
		if jsonErr != nil {
			t.Fatalf("%s: cannot encode %+v: %v", d.name, req, jsonErr)
		}
		again, err := d.decode(encoded)
		if err != nil {
			t.Fatalf("%s: %q was accepted as %+v, but encoded as %s it is refused: %v", d.name, body, req, encoded, err)
		}
		if !reflect.DeepEqual(req, again) {
			t.Fatalf("%s: %q decoded as %+v, encoded as %s decodes as %+v", d.name, body, req, encoded, again)
		}
	})
}
