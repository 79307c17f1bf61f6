package dashboard

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"maunium.net/go/mautrix/id"
)

// State event types Element reads widgets and their layout from.
const (
	// WidgetEventType is a room widget; its state key is the widget's ID.
	WidgetEventType = "im.vector.modular.widgets"
	// LayoutEventType places a room's widgets; its state key is "".
	LayoutEventType = "io.element.widgets.layout"
)

// WidgetContent is an im.vector.modular.widgets state event's content.
type WidgetContent struct {
	Type          string         `json:"type"`
	URL           string         `json:"url"`
	Name          string         `json:"name"`
	ID            string         `json:"id"`
	CreatorUserID id.UserID      `json:"creatorUserId"`
	Data          map[string]any `json:"data"`
	// WaitForIframeLoad: Element starts the widget API once the frame has loaded; the
	// page needs nothing before that.
	WaitForIframeLoad bool `json:"waitForIframeLoad"`
}

// CustomWidgetType is Element's type for a custom widget.
const CustomWidgetType = "m.custom"

// WidgetID is the dashboard widget's ID (and state key) in a tenant's control rooms:
// stable, so sending the state again replaces the widget rather than adding one.
func WidgetID(tenant string) string { return "contactcenter_dashboard_" + tenant }

// WidgetTemplateVars are the widget URL's variables: Element replaces each $name with
// the current value, URL-encoded, before it loads the frame (and adds widgetId and
// parentUrl itself). They are hints for the page; who the user is comes from the
// OpenID token alone.
var WidgetTemplateVars = map[string]string{
	"user":  "$matrix_user_id",
	"room":  "$matrix_room_id",
	"theme": "$org.matrix.msc2873.client_theme",
	"lang":  "$org.matrix.msc2873.client_language",
}

// Widget builds the dashboard widget's state for a tenant's control room: its state
// key and content. publicURL is dashboard.public_url; creator is the business
// identity that sends it.
func Widget(publicURL, tenant, tenantName string, creator id.UserID) (string, *WidgetContent, error) {
	u, err := url.Parse(publicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", nil, fmt.Errorf("dashboard: widget URL must be an http(s) URL without query, got %q", publicURL)
	}
	if tenant == "" || creator == "" {
		return "", nil, errors.New("dashboard: a widget needs a tenant and a creator")
	}
	// Built by hand: url.Values would encode the template variables' "$", and Element
	// would then not find them.
	q := []string{"tenant=" + url.QueryEscape(tenant)}
	for _, k := range []string{"user", "room", "theme", "lang"} {
		q = append(q, k+"="+WidgetTemplateVars[k])
	}
	name := "Live dashboard"
	if tenantName != "" {
		name = tenantName + " live dashboard"
	}
	widgetID := WidgetID(tenant)
	return widgetID, &WidgetContent{
		Type:              CustomWidgetType,
		URL:               u.String() + "?" + strings.Join(q, "&"),
		Name:              name,
		ID:                widgetID,
		CreatorUserID:     creator,
		Data:              map[string]any{"tenant": tenant, "title": name},
		WaitForIframeLoad: true,
	}, nil
}

// LayoutContent is an io.element.widgets.layout state event's content.
type LayoutContent struct {
	Widgets map[string]WidgetLayout `json:"widgets"`
}

// WidgetLayout places one widget.
type WidgetLayout struct {
	// Container: "top" (the app drawer above the timeline), "right" (the right panel)
	// or "center" (in place of the timeline).
	Container string `json:"container"`
	// Index orders widgets in the top container, smallest first.
	Index *int `json:"index,omitempty"`
	// Width and Height are percentages (0-100) of the top container's width and of the
	// room's height; Element applies the largest height among the top widgets.
	Width  *int `json:"width,omitempty"`
	Height *int `json:"height,omitempty"`
}

// Layout pins the dashboard widget at the top of the room, full width and at
// heightPercent of the room's height, so that Element shows it beside the timeline
// without anyone opening it. The event replaces the room's whole layout: control
// rooms hold no other widget.
func Layout(widgetID string, heightPercent int) *LayoutContent {
	index, width, height := 0, 100, min(max(heightPercent, 10), 100)
	return &LayoutContent{Widgets: map[string]WidgetLayout{
		widgetID: {Container: "top", Index: &index, Width: &width, Height: &height},
	}}
}

// Validate checks a layout as Element reads it: known containers, percentages within
// 0-100, at most three widgets pinned at the top, and only widgets that exist.
func (l *LayoutContent) Validate(widgetIDs ...string) error {
	if l == nil || l.Widgets == nil {
		return errors.New("layout: no widgets object")
	}
	known := map[string]bool{}
	for _, w := range widgetIDs {
		known[w] = true
	}
	top := 0
	for wid, w := range l.Widgets {
		if len(widgetIDs) > 0 && !known[wid] {
			return fmt.Errorf("layout: widget %q is not in the room", wid)
		}
		switch w.Container {
		case "top":
			top++
		case "right", "center":
		default:
			return fmt.Errorf("layout: widget %q has unknown container %q", wid, w.Container)
		}
		for name, p := range map[string]*int{"width": w.Width, "height": w.Height} {
			if p != nil && (*p < 0 || *p > 100) {
				return fmt.Errorf("layout: widget %q has %s %d%%, outside 0-100", wid, name, *p)
			}
		}
		if w.Index != nil && *w.Index < 0 {
			return fmt.Errorf("layout: widget %q has a negative index", wid)
		}
	}
	if top > 3 {
		return fmt.Errorf("layout: %d widgets at the top; Element pins at most 3", top)
	}
	return nil
}
