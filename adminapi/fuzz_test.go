package adminapi

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// adminDecoders are the request decoders that need nothing but the body.
var adminDecoders = []struct {
	name   string
	decode func(body []byte) (any, *apiError)
}{
	{"outbound", func(b []byte) (any, *apiError) { return decodeOutbound(b) }},
	{"reveal", func(b []byte) (any, *apiError) { return decodeReveal(b) }},
	{"staff", func(b []byte) (any, *apiError) {
		s, voice, err := decodeStaff(b, "")
		if err != nil {
			return nil, err
		}
		wrap := ""
		if s.WrapUp > 0 {
			wrap = time.Duration(s.WrapUp).String()
		}
		return staffBody{UserID: s.UserID, Name: s.Name, Role: string(s.Role), Skills: s.Skills, Capacity: s.Capacity,
			Languages: s.Languages, Regions: s.Regions, WrapUp: wrap, Voice: voice}, nil
	}},
	{"workflow", func(b []byte) (any, *apiError) {
		var req workflowBody
		if err := decodeJSON(b, &req); err != nil {
			return nil, err
		}
		return req, nil
	}},
}

// FuzzDecodeAdmin feeds any bytes to each decoder: it never panics, refuses with a
// 4xx, an errcode and a field, or accepts a request that, encoded again, decodes to
// the very same request.
func FuzzDecodeAdmin(f *testing.F) {
	for _, s := range []string{
		`{}`, `null`, `[]`, `{}{}`, `{"matrix_id":"@alice:c.test","reason":"Your loan","agent":"@carol:b.test"}`,
		`{"account_id":"A-1","reason":" hi ","not_before":"2026-03-10T09:00:00+01:00","not_after":"2026-03-11T09:00:00Z","dry_run":true}`,
		`{"matrix_id":"@a:b","reason":"x","queue":"mortgages"}`, `{"Matrix_id":"@a:b","reason":"x"}`, `{"reason":"x","reason":"y"}`,
		`{"tenant":"acme","subject":"Visitor 4F2A","reason":"abuse report 12"}`,
		`{"user_id":"@dave:b.test","name":"Dave","role":"agent","skills":{"mortgage":4,"Cards":2},"wrap_up":"1m30s","voice":true}`,
		`{"user_id":"@dave:b.test","name":"Dave","role":"agent","skills":{"a":1,"a":2}}`, `{"source":"steps: []"}`,
		"{\"reason\":\"\xff\"}", `{"reason":"\ud800"}`, `{"matrix_id":"@a:b","reason":"x","not_before":"0001-01-01T00:00:00Z"}`,
	} {
		for i := range adminDecoders {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		d := adminDecoders[int(which)%len(adminDecoders)]
		req, err := d.decode(body)
		if err != nil {
			if err.status < 400 || err.status > 499 || err.code == "" || err.msg == "" || err.field == "" {
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
			t.Fatalf("%s: %q accepted as %+v, but encoded as %s refused: %v", d.name, body, req, encoded, err)
		}
		if !reflect.DeepEqual(req, again) {
			t.Fatalf("%s: %q decoded as %+v, encoded as %s decodes as %+v", d.name, body, req, encoded, again)
		}
	})
}
