package strictjson

import (
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"testing"
)

// fieldName is isFieldName written another way, to check Decode's answers against.
var fieldName = regexp.MustCompile(`^[a-z_]+$`)

// FuzzDecode feeds any bytes to Decode: it never panics; it refuses with a 400, a
// kind, a message and a field (empty only for an empty key), or it accepts valid JSON
// whose keys are all field names (those under skills excepted) and that, encoded
// again, decodes to the very same value.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{}`, `null`, `[]`, `{}{}`, `{} x`, `{"name":"a","count":2,"on":true,"tags":["x"],"skills":{"Cards":1},"inner":{"value":"v"}}`,
		`{"Name":"a"}`, `{"name":"a","name":"b"}`, `{"skills":{"a":1,"a":2}}`, `{"":1}`, `{"count":"3"}`, `{"name":}`,
		`{"inner":{"value":"a"}`, "{\"name\":\"\xff\"}", `{"name":"\ud800"}`, `{"n\u0061me":"a"}`, "{\"\u212a\":1}",
	} {
		f.Add([]byte(s))
	}
	kinds := []Kind{BadJSON, UnknownField}
	f.Fuzz(func(t *testing.T, body []byte) {
		var v sample
		err := Decode(body, &v, skills)
		if err != nil {
			if err.Status != 400 || !slices.Contains(kinds, err.Kind) || err.Message == "" || (err.Field == "" && err.Kind != UnknownField) {
				t.Fatalf("%q refused with %+v", body, err)
			}
			return
		}
		var generic map[string]any
		if !json.Valid(body) || json.Unmarshal(body, &generic) != nil {
			t.Fatalf("%q accepted, but it is not one JSON object", body)
		}
		if key, ok := badKey(generic); !ok {
			t.Fatalf("%q accepted with key %q", body, key)
		}
		encoded, jsonErr := json.Marshal(v)
		if jsonErr != nil {
			t.Fatalf("cannot encode %+v: %v", v, jsonErr)
		}
		var again sample
		if err := Decode(encoded, &again, skills); err != nil {
			t.Fatalf("%q accepted as %+v, but encoded as %s refused: %v", body, v, encoded, err)
		}
		if !reflect.DeepEqual(v, again) {
			t.Fatalf("%q decoded as %+v, encoded as %s decodes as %+v", body, v, encoded, again)
		}
	})
}

// badKey finds a key in value that is not a field name, skipping the skills map's.
func badKey(value any) (string, bool) {
	switch x := value.(type) {
	case map[string]any:
		for k, v := range x {
			if !fieldName.MatchString(k) {
				return k, false
			}
			if k == "skills" {
				continue
			}
			if key, ok := badKey(v); !ok {
				return key, false
			}
		}
	case []any:
		for _, v := range x {
			if key, ok := badKey(v); !ok {
				return key, false
			}
		}
	}
	return "", true
}
