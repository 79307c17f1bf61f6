package strictjson

import (
	"net/http"
	"strings"
	"testing"
)

type sample struct {
	Name   string         `json:"name"`
	Count  *int           `json:"count"`
	On     bool           `json:"on"`
	Tags   []string       `json:"tags"`
	Skills map[string]int `json:"skills"`
	Inner  *inner         `json:"inner"`
}

type inner struct {
	Value string `json:"value"`
}

var skills = Options{FreeKeys: []string{"skills"}}

func TestDecode(t *testing.T) {
	ok := (*Error)(nil)
	bad := func(field, msg string) *Error { return badJSON(field, msg) }
	unknown := func(key string) *Error {
		return &Error{Status: http.StatusBadRequest, Kind: UnknownField, Field: key, Message: "unknown field"}
	}
	tests := []struct {
		name   string
		body   string
		opts   Options
		want   *Error
		detail string // a part of the wanted Detail
	}{
		{"every field", `{"name":"a","count":2,"on":true,"tags":["x"],"skills":{"Cards":1},"inner":{"value":"v"}}`, skills, ok, ""},
		{"spaces around", " \r\n\t{ \"name\" : \"a\" } \n", Options{}, ok, ""},
		{"a key again in another object, or as a value", `{"inner":{"value":"name"},"name":"value"}`, Options{}, ok, ""},
		{"escaped key", `{"n\u0061me":"a"}`, Options{}, ok, ""},
		{"empty", ``, Options{}, bad("body", "must be a JSON object"), ""},
		{"spaces", " \n", Options{}, bad("body", "must be a JSON object"), ""},
		{"null", `null`, Options{}, bad("body", "must be a JSON object"), ""},
		{"array", `[{}]`, Options{}, bad("body", "must be a JSON object"), ""},
		{"malformed", `{"name":}`, Options{}, bad("body", "invalid JSON at byte 9"), "looking for beginning of value"},
		{"malformed after a key", `{"name":"a",}`, Options{}, bad("body", "invalid JSON at byte 13"), "object key"},
		{"truncated", `{"name":"a"`, Options{}, bad("body", "JSON ends too early"), ""},
		{"unclosed", `{`, Options{}, bad("body", "JSON ends too early"), ""},
		{"object after", `{}{}`, Options{}, bad("body", "data after the JSON object; send one object only"), ""},
		{"garbage after", `{"name":"a"} x`, Options{}, bad("body", "data after the JSON object; send one object only"), ""},
		{"unfinished string after", `{}"`, Options{}, bad("body", "data after the JSON object; send one object only"), ""},
		{"unknown field", `{"colour":"red"}`, Options{}, unknown("colour"), ""},
		{"unknown nested field", `{"inner":{"colour":"red"}}`, Options{}, unknown("colour"), ""},
		{"case differs", `{"Name":"a"}`, Options{}, unknown("Name"), ""},
		{"Kelvin sign for k", "{\"\u212a\":1}", Options{}, unknown("\u212a"), ""},
		{"empty key", `{"":1}`, Options{}, unknown(""), ""},
		{"given twice", `{"name":"a","name":"b"}`, Options{}, bad("name", "given twice"), ""},
		{"given twice, once escaped", `{"name":"a","n\u0061me":"b"}`, Options{}, bad("name", "given twice"), ""},
		{"given twice nested", `{"inner":{"value":"a","value":"b"}}`, Options{}, bad("value", "given twice"), ""},
		{"free key without the option", `{"skills":{"Cards":1}}`, Options{}, unknown("Cards"), ""},
		{"free key given twice", `{"skills":{"a":1,"a":2}}`, skills, bad("a", "given twice"), ""},
		{"empty free key", `{"skills":{"":1}}`, skills, unknown(""), ""},
		{"free only below the free key", `{"skills":{},"inner":{"Value":"v"}}`, skills, unknown("Value"), ""},
		{"string for integer", `{"count":"3"}`, Options{}, bad("count", "must be an integer, not JSON string"), ""},
		{"number for bool", `{"on":1}`, Options{}, bad("on", "must be true or false, not JSON number"), ""},
		{"string for array", `{"tags":"x"}`, Options{}, bad("tags", "must be an array, not JSON string"), ""},
		{"number for string", `{"name":5}`, Options{}, bad("name", "must be a string, not JSON number"), ""},
		{"array for object", `{"inner":[]}`, Options{}, bad("inner", "must be an object, not JSON array"), ""},
		{"key fault before type error", `{"Name":5}`, Options{}, unknown("Name"), ""},
		{"key twice before type error", `{"name":"a","name":5}`, Options{}, bad("name", "given twice"), ""},
		{"key fault before later malformed JSON", `{"Name":"a",`, Options{}, unknown("Name"), ""},
		{"object's faults before what follows", `{"colour":1} x`, Options{}, unknown("colour"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v sample
			got := Decode([]byte(tt.body), &v, tt.opts)
			if tt.want == nil || got == nil {
				if got != tt.want {
					t.Fatalf("Decode(%q) = %v, want %v", tt.body, got, tt.want)
				}
				return
			}
			if got.Status != tt.want.Status || got.Kind != tt.want.Kind || got.Field != tt.want.Field || got.Message != tt.want.Message ||
				!strings.Contains(got.Detail, tt.detail) || (tt.detail == "" && got.Detail != "") {
				t.Fatalf("Decode(%q) = %+v, want %+v with detail %q", tt.body, got, tt.want, tt.detail)
			}
		})
	}
}

func TestDecodeFills(t *testing.T) {
	var v sample
	if err := Decode([]byte(`{"name":"a","count":2,"skills":{"Cards":1},"inner":{"value":"v"}}`), &v, skills); err != nil {
		t.Fatal(err)
	}
	if v.Name != "a" || v.Count == nil || *v.Count != 2 || v.Skills["Cards"] != 1 || v.Inner == nil || v.Inner.Value != "v" {
		t.Errorf("decoded %+v", v)
	}
}
