package bridge

import (
	"encoding/json"
	"errors"

	"maunium.net/go/mautrix/appservice"
	"maunium.net/go/mautrix/event"
)

// wireTransaction is an appservice transaction as it arrives: the PDUs stay raw so
// the inbox keeps exactly what the homeserver sent, and every extension is decoded
// on its own, item by item.
type wireTransaction struct {
	Events           json.RawMessage `json:"events"`
	ToDevice         json.RawMessage `json:"to_device"`
	MSC2409ToDevice  json.RawMessage `json:"de.sorunome.msc2409.to_device"`
	DeviceLists      json.RawMessage `json:"device_lists"`
	MSC3202Lists     json.RawMessage `json:"org.matrix.msc3202.device_lists"`
	OTKCounts        json.RawMessage `json:"device_one_time_keys_count"`
	MSC3202OTK       json.RawMessage `json:"org.matrix.msc3202.device_one_time_keys_count"`
	Ephemeral        json.RawMessage `json:"ephemeral"`
	MSC2409Ephemeral json.RawMessage `json:"de.sorunome.msc2409.ephemeral"`
}

// errNotTransaction is a body that is no transaction at all; the homeserver gets 400.
var errNotTransaction = errors.New("the body is not a transaction (a JSON object whose events are a list)")

// decodeTransaction reads a transaction. Only a body that is not a JSON object, or
// whose events are not a list, is refused: a malformed to-device message, key count
// or device list is skipped (and counted) so that it cannot cost the valid events
// beside it. Each PDU is kept raw; storeEvents skips those that are no event.
func decodeTransaction(body []byte) (events []json.RawMessage, ext *appservice.Transaction, skipped int, err error) {
	var wire wireTransaction
	if err = json.Unmarshal(body, &wire); err != nil {
		return nil, nil, 0, errNotTransaction
	}
	if len(wire.Events) > 0 && string(wire.Events) != "null" {
		if err = json.Unmarshal(wire.Events, &events); err != nil {
			return nil, nil, 0, errNotTransaction
		}
	}
	ext = &appservice.Transaction{}
	ext.ToDeviceEvents, skipped = decodeEach(firstPresent(wire.ToDevice, wire.MSC2409ToDevice))
	var skippedEphemeral int
	ext.EphemeralEvents, skippedEphemeral = decodeEach(firstPresent(wire.Ephemeral, wire.MSC2409Ephemeral))
	skipped += skippedEphemeral
	if raw := firstPresent(wire.DeviceLists, wire.MSC3202Lists); raw != nil {
		if json.Unmarshal(raw, &ext.DeviceLists) != nil {
			ext.DeviceLists = nil
			skipped++
		}
	}
	if raw := firstPresent(wire.OTKCounts, wire.MSC3202OTK); raw != nil {
		if json.Unmarshal(raw, &ext.DeviceOTKCount) != nil {
			ext.DeviceOTKCount = nil
			skipped++
		}
	}
	return events, ext, skipped, nil
}

// decodeEach decodes a list of events one by one, skipping those that do not decode.
func decodeEach(raw json.RawMessage) (out []*event.Event, skipped int) {
	if raw == nil {
		return nil, 0
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil, 1
	}
	for _, item := range items {
		var evt event.Event
		if json.Unmarshal(item, &evt) != nil {
			skipped++
			continue
		}
		out = append(out, &evt)
	}
	return out, skipped
}

// firstPresent is the stable field if the homeserver sent it, else the unstable one.
func firstPresent(stable, unstable json.RawMessage) json.RawMessage {
	for _, raw := range []json.RawMessage{stable, unstable} {
		if len(raw) > 0 && string(raw) != "null" {
			return raw
		}
	}
	return nil
}
