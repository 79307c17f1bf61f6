package bridge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/dashboard"
	"github.com/contactcenter/contactcenter/routing"
)

// dashboardWidgetHeight is the share of the room's height Element gives the widget.
const dashboardWidgetHeight = 40

// widgetWanted tells whose control room shows the dashboard as a widget: supervisors'.
// Agents open it through !dashboard; it shows them their own figures.
func widgetWanted(role routing.Role) bool { return role == routing.RoleSupervisor }

// ensureDashboardWidget puts the dashboard widget and Element's layout pinning it into
// a supervisor's control room, as the business identity, through the outbox. The
// outbox keys carry the widget's content: the same content is queued once per room
// ever, and a changed one (dashboard.public_url moved, the tenant renamed) once more,
// replacing the old (the widget's state key is stable per tenant).
func (b *Bridge) ensureDashboardWidget(ctx context.Context, t *Tenant, staff routing.Staff, room id.RoomID) error {
	if b.dash == nil || !widgetWanted(staff.Role) {
		return nil
	}
	if room == "" {
		record, err := b.DB.Staff.Get(ctx, t.ID, id.UserID(staff.UserID))
		if err != nil || record == nil || record.ControlRoomID == "" {
			return err
		}
		room = record.ControlRoomID
	}
	key, widget, err := dashboard.Widget(b.Config.Dashboard.PublicURL, t.ID, t.Name, t.UserID)
	if err != nil {
		return err
	}
	layout := dashboard.Layout(key, dashboardWidgetHeight)
	version, err := contentVersion(widget, layout)
	if err != nil {
		return err
	}
	defer b.outbox.Wake()
	return b.doTxn(ctx, func(ctx context.Context) error {
		now := b.now()
		if err := b.DB.Outbox.Enqueue(ctx, outboxKey("control-widget", room, version), room, t.UserID, StateAction,
			stateAction{Type: dashboard.WidgetEventType, StateKey: key, Content: widget}, now); err != nil {
			return err
		}
		return b.DB.Outbox.Enqueue(ctx, outboxKey("control-widget-layout", room, version), room, t.UserID, StateAction,
			stateAction{Type: dashboard.LayoutEventType, Content: layout}, now)
	})
}

// contentVersion is a short digest of state contents, for outbox keys that change
// when the contents do.
func contentVersion(contents ...any) (string, error) {
	h := sha256.New()
	for _, c := range contents {
		data, err := json.Marshal(c)
		if err != nil {
			return "", err
		}
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)[:8]), nil
}
