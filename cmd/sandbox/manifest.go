package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/contactcenter/contactcenter/contextapi"
	"github.com/contactcenter/contactcenter/internal/deploy"
	"github.com/contactcenter/contactcenter/testbed"
)

// Manifest is sandbox.json. Tools outside the repository read it: keep its shape.
type Manifest struct {
	Ready              bool       `json:"ready"`
	CustomerHomeserver Homeserver `json:"customer_homeserver"`
	BusinessHomeserver Homeserver `json:"business_homeserver"`
	Tenants            []Tenant   `json:"tenants"`
	Users              []User     `json:"users"`
	API                *API       `json:"api,omitempty"`
	Dashboard          *Dashboard `json:"dashboard,omitempty"`
	// Metrics is the Prometheus endpoint (GET, no authentication: loopback only).
	Metrics *Metrics `json:"metrics,omitempty"`
	// AdminAPI is the tenants' admin API (staff, workflow, outbound contact).
	AdminAPI *API `json:"admin_api,omitempty"`
}

type Homeserver struct {
	URL        string `json:"url"`
	ServerName string `json:"server_name"`
}

type Tenant struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	BusinessUser string `json:"business_user"`
}

type User struct {
	UserID         string `json:"user_id"`
	Password       string `json:"password"`
	Role           string `json:"role"`
	Tenant         string `json:"tenant,omitempty"`
	Name           string `json:"name"`
	Identified     bool   `json:"identified,omitempty"`
	AccountManager string `json:"account_manager,omitempty"`
}

// API is the tenants' context API: its base URL and each tenant's key.
type API struct {
	URL  string            `json:"url"`
	Keys map[string]string `json:"keys"`
}

// Dashboard is the live dashboard's address; staff sign in with !dashboard's link.
type Dashboard struct {
	URL string `json:"url"`
}

// Metrics is the Prometheus endpoint's address.
type Metrics struct {
	URL string `json:"url"`
}

// demoUser is someone the sandbox registers.
type demoUser struct {
	localpart, name, role string
	business              bool   // on the business homeserver (staff) or the customer one
	tenant                string // the tenant a staff member works for, or a customer is known to
	identified            bool
	accountManager        string // localpart of an agent
}

var demoUsers = []demoUser{
	{localpart: "carol", name: "Carol Agent", role: "agent", business: true, tenant: "acme"},
	{localpart: "dave", name: "Dave Agent", role: "agent", business: true, tenant: "acme"},
	{localpart: "sam", name: "Sam Supervisor", role: "supervisor", business: true, tenant: "acme"},
	{localpart: "gina", name: "Gina Agent", role: "agent", business: true, tenant: "globex"},
	{localpart: "alice", name: "Alice Customer", role: "customer", tenant: "acme", identified: true, accountManager: "carol"},
	{localpart: "bob", name: "Bob Customer", role: "customer"},
}

// populate registers the demo users, tells the tenants' context API who the
// identified customers are, and describes the deployment.
func populate(ctx context.Context, d *deploy.Deployment, keys map[string]string) (*Manifest, error) {
	m := &Manifest{
		CustomerHomeserver: Homeserver{d.Bed.Customer.URL, d.Bed.Customer.ServerName},
		BusinessHomeserver: Homeserver{d.Bed.Business.URL, d.Bed.Business.ServerName},
		API:                &API{URL: "http://" + d.Service.Addr() + contextapi.PathPrefix, Keys: keys},
	}
	if d.Config.Dashboard.Enabled() {
		m.Dashboard = &Dashboard{URL: d.Config.Dashboard.PublicURL}
	}
	for i := range d.Config.Tenants {
		t := &d.Config.Tenants[i]
		m.Tenants = append(m.Tenants, Tenant{ID: t.ID, Name: t.Name, BusinessUser: d.Config.BusinessUserID(t).String()})
	}
	for _, u := range demoUsers {
		server := d.Bed.Customer
		if u.business {
			server = d.Bed.Business
		}
		password := u.localpart + "-sandbox"
		acct, err := register(ctx, server, u.localpart, password)
		if err != nil {
			return nil, fmt.Errorf("registering %s: %w", u.localpart, err)
		}
		user := User{UserID: acct.UserID, Password: password, Role: u.role, Tenant: u.tenant, Name: u.name, Identified: u.identified}
		if u.accountManager != "" {
			user.AccountManager = fmt.Sprintf("@%s:%s", u.accountManager, d.Bed.Business.ServerName)
		}
		if u.identified {
			if err = pushCustomer(ctx, m.API, u, user); err != nil {
				return nil, fmt.Errorf("telling the context API about %s: %w", u.localpart, err)
			}
		}
		m.Users = append(m.Users, user)
	}
	return m, nil
}

// pushCustomer does what a tenant's CRM would: it sends the customer's record, linked
// to their Matrix ID, and a few pages they viewed, through the context API.
func pushCustomer(ctx context.Context, api *API, u demoUser, user User) error {
	account := "demo-" + u.localpart
	calls := []struct {
		method, path string
		body         any
	}{
		{http.MethodPut, "customers/" + account, map[string]any{"name": u.name, "tier": "gold", "products": []string{"current account", "mortgage"},
			"account_manager": user.AccountManager, "matrix_ids": []string{user.UserID}}},
		{http.MethodPost, "pageviews", map[string]any{"views": []map[string]any{
			{"account_id": account, "url": "https://acme.example/mortgages/fixed-rate", "title": "Fixed-rate mortgages"},
			{"account_id": account, "url": "https://acme.example/cards/lost", "title": "Lost or stolen card"},
		}}},
	}
	for _, c := range calls {
		body, _ := json.Marshal(c.body)
		req, err := http.NewRequestWithContext(ctx, c.method, api.URL+c.path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+api.Keys[u.tenant])
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		answer, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s %s: %s %s", c.method, c.path, resp.Status, answer)
		}
	}
	return nil
}

// register creates an account, retrying briefly: right after start-up Dendrite may
// still be settling.
func register(ctx context.Context, server *testbed.Server, localpart, password string) (acct *testbed.Account, err error) {
	for attempt := 0; attempt < 5; attempt++ {
		if acct, err = server.Register(ctx, localpart, password, false); err == nil {
			return acct, nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return nil, err
}

func printWelcome(m *Manifest, dir string, took time.Duration) {
	fmt.Printf("\nSandbox ready in %s. Log in with any Matrix client (homeserver URL, user, password):\n\n", took.Round(time.Millisecond))
	for _, u := range m.Users {
		hs := m.CustomerHomeserver.URL
		if u.Role != "customer" {
			hs = m.BusinessHomeserver.URL
		}
		extra := ""
		if u.Identified {
			extra = " (identified; account manager " + u.AccountManager + ")"
		} else if u.Role == "customer" {
			extra = " (anonymous)"
		}
		fmt.Printf("  %-10s %-34s %-16s %s%s\n", u.Role, u.UserID, u.Password, hs, extra)
	}
	fmt.Println("\nCustomers start a conversation by DMing a business identity:")
	for _, t := range m.Tenants {
		fmt.Printf("  %-8s %s\n", t.Name, t.BusinessUser)
	}
	if m.Dashboard != nil {
		fmt.Printf("\nLive dashboard: %s — staff get a sign-in link with !dashboard in their control room\n"+
			"(supervisors also see it pinned there in an Element served over http: Element on https refuses an http widget).\n", m.Dashboard.URL)
	}
	fmt.Printf("\nMachine-readable: %s/sandbox.json. Press Ctrl-C to stop and clean up.\n", dir)
}
