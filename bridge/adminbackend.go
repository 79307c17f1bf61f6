package bridge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/adminapi"
	"github.com/contactcenter/contactcenter/bot"
	"github.com/contactcenter/contactcenter/consent"
	"github.com/contactcenter/contactcenter/contextmap"
	"github.com/contactcenter/contactcenter/database"
	"github.com/contactcenter/contactcenter/routing"
)

// The bridge is the admin API's backend (adminapi.Backend): the API writes its own
// tables, and the bridge reads what a decision needs and acts on what was stored.

var _ adminapi.Backend = (*Bridge)(nil)

// adminAPI builds the tenants' admin API over the database and this bridge.
func (b *Bridge) adminAPI() (*adminapi.Handler, error) {
	var tenants []adminapi.Tenant
	for i := range b.Config.Tenants {
		tc := &b.Config.Tenants[i]
		policy, err := tc.ContactPolicy()
		if err != nil {
			return nil, fmt.Errorf("tenant %s: %w", tc.ID, err)
		}
		reports, err := tc.ReportSettings()
		if err != nil {
			return nil, fmt.Errorf("tenant %s: %w", tc.ID, err)
		}
		remote := tc.AllowRemoteAgents
		tenants = append(tenants, adminapi.Tenant{ID: tc.ID, Policy: policy, TimeZone: policy.TimeZone(), Workflow: tc.Workflow,
			CheckStaff: func(userID string) error { return b.checkStaffUser(userID, remote) }, Reports: reports,
			CannedReplies: cannedByName(tc.AgentTools.CannedReplies)})
	}
	h, err := adminapi.New(b.DB, b, tenants)
	if err != nil {
		return nil, err
	}
	h.SetClock(func() time.Time { return b.now() })
	h.SetRecordingsDir(b.Config.Voice.Recordings.Dir)
	return h, nil
}

// checkStaffUser is the config's rule for staff, for staff added through the API: on
// the business homeserver unless the tenant allows remote agents, and none of the
// service's own users.
func (b *Bridge) checkStaffUser(userID string, allowRemote bool) error {
	localpart, server, err := id.UserID(userID).Parse()
	if err != nil {
		return err
	}
	if server == b.Config.Homeserver.Domain {
		if localpart == b.Config.Appservice.BotUsername || b.Config.IsGhostLocalpart(localpart) {
			return errors.New("is one of the service's own users")
		}
		for i := range b.Config.Tenants {
			if b.Config.Tenants[i].BusinessLocalpart == localpart {
				return errors.New("is one of the service's own users")
			}
		}
	} else if !allowRemote {
		return errors.New("is on another homeserver, and the tenant does not allow remote agents")
	}
	return nil
}

// adminHandler serves the admin API once the tenants are set up (503 before, as for
// transactions), limited per key like the context API. It is built on the first
// request: the database is open by then.
func (b *Bridge) adminHandler() http.Handler {
	var once sync.Once
	var api http.Handler
	serve := func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() {
			h, err := b.adminAPI()
			if err != nil {
				b.Log.Error().Err(err).Msg("The admin API could not be set up")
				api = http.NotFoundHandler()
				return
			}
			api = limitPerBearer(h, b.Config.Limits.APIRequests.Limit())
		})
		api.ServeHTTP(w, r)
	}
	return b.whenTenantsReady(serve)
}

// Conversations lists the tenant's conversations, newest first.
func (b *Bridge) Conversations(ctx context.Context, tenantID string, f adminapi.ConversationFilter) ([]adminapi.Conversation, error) {
	t := b.TenantByID(tenantID)
	if t == nil {
		return nil, fmt.Errorf("no tenant %q", tenantID)
	}
	limit := f.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	list, err := b.DB.Conversation.OfTenant(ctx, tenantID, f.State, f.Before, limit)
	if err != nil {
		return nil, err
	}
	out := make([]adminapi.Conversation, 0, len(list))
	for _, conv := range list {
		c, err := b.adminConversation(ctx, t, conv)
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, nil
}

// Conversation returns one of the tenant's conversations, or nil.
func (b *Bridge) Conversation(ctx context.Context, tenantID string, convID int64) (*adminapi.Conversation, error) {
	t := b.TenantByID(tenantID)
	conv, err := b.DB.Conversation.Get(ctx, convID)
	if err != nil || conv == nil || t == nil || conv.TenantID != tenantID {
		return nil, err
	}
	return b.adminConversation(ctx, t, conv)
}

func (b *Bridge) adminConversation(ctx context.Context, t *Tenant, conv *database.Conversation) (*adminapi.Conversation, error) {
	out := &adminapi.Conversation{ID: conv.ID, State: string(conv.Status), Customer: t.customerName(conv.Customer),
		OpenedAt: conv.OpenedAt.UTC(), AssignedAt: conv.AssignedAt.UTC(), ClosedAt: conv.ClosedAt.UTC(), Agents: []string{}}
	if conv.AssignedAt.IsZero() {
		out.AssignedAt = time.Time{}
	}
	if conv.ClosedAt.IsZero() {
		out.ClosedAt = time.Time{}
	} else {
		out.Outcome = "closed"
	}
	participants, err := b.DB.Participants.Current(ctx, conv.ID)
	if err != nil {
		return nil, err
	}
	for _, p := range participants {
		if p.Role == database.RoleAgent {
			out.Agents = append(out.Agents, p.UserID.String())
		}
	}
	if len(out.Agents) == 0 && conv.Agent != "" {
		out.Agents = append(out.Agents, conv.Agent.String())
	}
	r, err := b.DB.Outbound.ByConversation(ctx, conv.ID)
	if err != nil {
		return nil, err
	}
	if r != nil {
		out.OutboundID = r.ID
	}
	return out, nil
}

// CustomerOf is the Matrix ID most recently linked to the tenant's account.
func (b *Bridge) CustomerOf(ctx context.Context, tenantID, accountID string) (string, error) {
	ids, err := b.Consent.MatrixIDsOf(ctx, tenantID, accountID)
	if err != nil || len(ids) == 0 {
		return "", err
	}
	return ids[0], nil
}

// OutboundFacts reads what a contact decision needs: the consent facts, and the
// customer's zone from their profile unless a location they share for good gives it.
// The profile is asked of their homeserver only when they agreed to be contacted.
func (b *Bridge) OutboundFacts(ctx context.Context, tenantID, customer string) (adminapi.OutboundFacts, error) {
	t := b.TenantByID(tenantID)
	if t == nil {
		return adminapi.OutboundFacts{}, fmt.Errorf("no tenant %q", tenantID)
	}
	facts, err := b.consentFacts(ctx, t, customer)
	if err == nil && facts.ContactPolicy == string(consent.Always) && facts.LocationZone == "" {
		facts.ProfileZone = t.profileZone(ctx, id.UserID(customer))
	}
	return facts, err
}

// consentFacts reads the standing contact choice and the newest contact record, an
// open conversation, and the zone of a location shared for good (through the gate).
// Without a standing "always" for contact nothing else of the customer is read.
func (b *Bridge) consentFacts(ctx context.Context, t *Tenant, customer string) (adminapi.OutboundFacts, error) {
	var facts adminapi.OutboundFacts
	s := consent.Subject{Tenant: t.ID, UserID: customer}
	choices, err := b.Consent.StandingChoices(ctx, s)
	if err != nil {
		return facts, err
	}
	contact := choices[consent.Contact]
	facts.ContactPolicy, facts.PolicySetAt = string(contact.Policy), contact.SetAt
	last, err := b.Consent.LastRecord(ctx, s, consent.Contact)
	if err != nil {
		return facts, err
	}
	if last != nil {
		facts.LastDecision, facts.LastDecisionAt = string(last.Decision), last.At
	}
	open, err := b.DB.Conversation.OpenOfCustomer(ctx, t.ID, id.UserID(customer))
	if err != nil {
		return facts, err
	}
	facts.OpenConversation = open != nil
	if contact.Policy != consent.Always || choices[consent.Location].Policy != consent.Always {
		return facts, nil
	}
	view, err := b.Consent.ReadStanding(ctx, s, "outbound", consent.Location)
	if err != nil {
		return facts, err
	}
	if l := view.Location; l != nil {
		if r, ok := contextmap.RegionOf(t.Regions, contextmap.Point{Lat: l.Lat, Lon: l.Lon}); ok {
			facts.LocationZone = r.TimeZone
		}
	}
	return facts, nil
}

// decisionFacts are the facts of a decision made again: the consent facts now, and
// the profile zone the request's first decision read (a decision made inside a
// transaction asks no homeserver).
func (b *Bridge) decisionFacts(ctx context.Context, t *Tenant, r *database.OutboundRequest) (adminapi.OutboundFacts, error) {
	facts, err := b.consentFacts(ctx, t, r.Customer)
	if err != nil {
		return facts, err
	}
	decisions, err := b.DB.OutboundDecisions.OfRequest(ctx, r.ID)
	if err == nil && len(decisions) > 0 {
		facts.ProfileZone = decisions[0].Inputs.ProfileZone
	}
	return facts, err
}

// profileZoneTimeout bounds the profile lookup: a slow homeserver does not hold a
// decision up; the tenant's zone applies then.
const profileZoneTimeout = 3 * time.Second

// profileZone is the time zone in the customer's profile (m.tz, or its unstable
// name), "" when they set none or their server does not answer.
func (t *Tenant) profileZone(ctx context.Context, customer id.UserID) string {
	ctx, cancel := context.WithTimeout(ctx, profileZoneTimeout)
	defer cancel()
	var profile map[string]any
	url := t.Client.BuildClientURL("v3", "profile", customer)
	if _, err := t.Client.MakeRequest(ctx, http.MethodGet, url, nil, &profile); err != nil {
		zerolog.Ctx(ctx).Debug().Err(err).Msg("Could not read the customer's profile for their time zone")
		return ""
	}
	for _, key := range []string{"m.tz", "us.cloke.msc4175.tz"} {
		if tz, _ := profile[key].(string); tz != "" {
			return tz
		}
	}
	return ""
}

// OutboundRequested acts on a stored request: an allowed one starts routing now; a
// deferred one waits for the due loop.
func (b *Bridge) OutboundRequested(ctx context.Context, tenantID string, requestID int64) error {
	t := b.TenantByID(tenantID)
	if t == nil {
		return fmt.Errorf("no tenant %q", tenantID)
	}
	r, err := b.DB.Outbound.Get(ctx, tenantID, requestID)
	if err != nil || r == nil || r.State != "routing" {
		return err
	}
	return b.startOutbound(ctx, t, r)
}

// Reveal finds the customer behind a pseudonym ("Visitor 4F2A"), a ghost's user ID
// or a conversation ID at the tenant.
func (b *Bridge) Reveal(ctx context.Context, tenantID, subject string) (*adminapi.Revealed, error) {
	t := b.TenantByID(tenantID)
	if t == nil {
		return nil, nil
	}
	if convID, err := strconv.ParseInt(subject, 10, 64); err == nil {
		conv, err := b.DB.Conversation.Get(ctx, convID)
		if err != nil || conv == nil || conv.TenantID != tenantID || conv.Customer == "" {
			return nil, err
		}
		return &adminapi.Revealed{MatrixID: conv.Customer.String(), ConversationID: conv.ID}, nil
	}
	if strings.HasPrefix(subject, "@") {
		conv, err := b.DB.Conversation.ByGhost(ctx, tenantID, id.UserID(subject))
		if err != nil || conv == nil || conv.Customer == "" {
			return nil, err
		}
		return &adminapi.Revealed{MatrixID: conv.Customer.String(), ConversationID: conv.ID}, nil
	}
	customers, err := b.DB.CustomerRoom.CustomersOfTenant(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	for _, c := range customers {
		if strings.EqualFold(t.names.Name(c.String()), subject) {
			found := &adminapi.Revealed{MatrixID: c.String()}
			if conv, err := b.DB.Conversation.ByGhost(ctx, tenantID, b.Config.GhostUserID(t.names.GhostID(c.String()))); err != nil {
				return nil, err
			} else if conv != nil {
				found.ConversationID = conv.ID
			}
			return found, nil
		}
	}
	return nil, nil
}

// Revealed tells each of the tenant's supervisors, in their control room, who
// revealed whom and why; never the Matrix ID itself.
func (b *Bridge) Revealed(ctx context.Context, tenantID string, audit *database.Reveal) error {
	t := b.TenantByID(tenantID)
	if t == nil {
		return fmt.Errorf("no tenant %q", tenantID)
	}
	defer b.outbox.Wake()
	text := bot.RevealNotice(audit.RequestedBy, audit.Subject, audit.Reason)
	for _, s := range t.staff() {
		if s.Role != routing.RoleSupervisor {
			continue
		}
		record, err := b.DB.Staff.Get(ctx, t.ID, id.UserID(s.UserID))
		if err != nil {
			return err
		}
		if record == nil || record.ControlRoomID == "" {
			continue
		}
		key := outboxKey("reveal", audit.ID, s.UserID)
		if err = b.DB.Outbox.Enqueue(ctx, key, record.ControlRoomID, t.UserID, event.EventMessage, bot.Notice(text), b.now()); err != nil {
			return err
		}
	}
	return nil
}

// matrixErr reads a homeserver's refusal: its errcode and HTTP status (0 when it
// gave none: unreachable).
func matrixErr(err error) (errcode string, status int) {
	var httpErr mautrix.HTTPError
	if errors.As(err, &httpErr) {
		if httpErr.RespError != nil {
			errcode = httpErr.RespError.ErrCode
		}
		if httpErr.Response != nil {
			status = httpErr.Response.StatusCode
		}
	}
	return errcode, status
}
