package strictjson

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
)

// checkKeys walks the tokens of body's first value and refuses the first key that is
// not a field name (unless its object is the value of a free key) or appears twice in
// its object. At malformed JSON it stops and returns the tokenizer's error as
// malformed, for the decoder to report in its own, more precise words.
func checkKeys(body []byte, free []string) (fault *Error, malformed error) {
	type frame struct {
		object    bool
		free      bool // any key, still once
		keys      map[string]bool
		expectKey bool
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var stack []*frame
	lastKey := ""
	valueDone := func() {
		if n := len(stack); n > 0 && stack[n-1].object {
			stack[n-1].expectKey = true
		}
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF // the body starts with '{': it ended inside
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				stack = append(stack, &frame{object: t == '{', free: slices.Contains(free, lastKey),
					keys: map[string]bool{}, expectKey: t == '{'})
			default:
				stack = stack[:len(stack)-1]
				if len(stack) == 0 {
					return nil, nil // what follows the object is the decoder's to judge
				}
				valueDone()
			}
		case string:
			top := stack[len(stack)-1]
			if !top.object || !top.expectKey {
				valueDone()
				continue
			}
			if t == "" || (!top.free && !isFieldName(t)) {
				return &Error{Status: http.StatusBadRequest, Kind: UnknownField, Field: t, Message: "unknown field"}, nil
			}
			if top.keys[t] {
				return badJSON(t, "given twice"), nil
			}
			top.keys[t], top.expectKey, lastKey = true, false, t
		default:
			valueDone()
		}
	}
}

func isFieldName(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; (c < 'a' || c > 'z') && c != '_' {
			return false
		}
	}
	return true
}
