// Package dashboard is the supervisors' live dashboard: a page the service serves
// (HTML, CSS and JavaScript embedded in the binary) that shows a tenant's queue,
// agents, today's figures, the last hours and the open conversations, updated live
// over server-sent events.
//
// Element shows it as a widget in a supervisor's control room (Widget and Layout build
// the state events). The page asks Element for a Matrix OpenID token through the widget
// API, and the service has the user's own homeserver confirm who holds it
// (/_matrix/federation/v1/openid/userinfo; a server vouches only for its own users),
// looks the user up in the tenant's staff, and answers with a short session token.
// Outside Element, NewOneTimeLink makes a link that signs in once.
//
// Supervisors see the whole tenant; an agent sees the queue and their own figures and
// conversations only (ForViewer); nobody sees another tenant. The figures come from a
// Source the service implements; the dashboard only narrows and shows them.
package dashboard
