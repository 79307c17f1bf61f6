package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/testbed"
)

// bed is one pair of real Dendrites shared by this package's tests (started on first
// use, about a second).
var bed struct {
	once sync.Once
	bed  *testbed.Bed
	err  error
}

func testBed(t *testing.T) *testbed.Bed {
	t.Helper()
	if testing.Short() {
		t.Skip("starts two Dendrite homeservers")
	}
	bed.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		bed.bed, bed.err = testbed.Start(ctx, testbed.Options{})
	})
	if bed.err != nil {
		t.Fatalf("test bed: %v", bed.err)
	}
	return bed.bed
}

// openIDToken is what Element hands a widget: POST /user/{userId}/openid/request_token
// at the user's homeserver.
type openIDToken struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	MatrixServerName string `json:"matrix_server_name"`
	ExpiresIn        int    `json:"expires_in"`
}

func requestOpenIDToken(t *testing.T, hs *testbed.Server, acct *testbed.Account) openIDToken {
	t.Helper()
	u := hs.URL + "/_matrix/client/v3/user/" + url.PathEscape(acct.UserID) + "/openid/request_token"
	req, _ := http.NewRequest(http.MethodPost, u, bytes.NewReader([]byte("{}")))
	req.Header.Set("Authorization", "Bearer "+acct.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var tok openIDToken
	if resp.StatusCode != 200 || json.Unmarshal(data, &tok) != nil || tok.AccessToken == "" {
		t.Fatalf("request_token for %s: HTTP %d %s", acct.UserID, resp.StatusCode, data)
	}
	return tok
}

var accountSeq struct {
	sync.Mutex
	n int
}

func register(t *testing.T, hs *testbed.Server, name string) *testbed.Account {
	t.Helper()
	accountSeq.Lock()
	accountSeq.n++
	localpart := fmt.Sprintf("%s%d", name, accountSeq.n)
	accountSeq.Unlock()
	acct, err := hs.Register(context.Background(), localpart, localpart+"-password", false)
	if err != nil {
		t.Fatal(err)
	}
	return acct
}

// testbedVerifier reaches the business server at its client URL, as the service
// reaches its own homeserver, and the customer server over federation, as any other.
func testbedVerifier(t *testing.T, b *testbed.Bed) *Verifier {
	v, err := NewVerifier(VerifierOptions{
		Local:       map[string]string{b.Business.ServerName: b.Business.URL},
		InsecureTLS: true, PrivateAddresses: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOpenIDTokensFromDendrite(t *testing.T) {
	b := testBed(t)
	ctx := context.Background()
	sup := register(t, b.Business, "sam")
	cust := register(t, b.Customer, "alice")
	supTok := requestOpenIDToken(t, b.Business, sup)
	custTok := requestOpenIDToken(t, b.Customer, cust)
	if supTok.MatrixServerName != b.Business.ServerName || custTok.MatrixServerName != b.Customer.ServerName {
		t.Fatalf("server names %q %q", supTok.MatrixServerName, custTok.MatrixServerName)
	}
	// Dendrite serves the federation endpoint on its client listener too, which is what
	// lets the service ask its own homeserver at homeserver.address.
	resp, err := http.Get(b.Business.URL + userinfoPath + "?access_token=" + url.QueryEscape(supTok.AccessToken))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("userinfo on the client listener: %v %v", resp, err)
	}
	resp.Body.Close()

	v := testbedVerifier(t, b)
	if u, err := v.Verify(ctx, supTok.MatrixServerName, supTok.AccessToken); err != nil || u.String() != sup.UserID {
		t.Fatalf("supervisor at the local server: %q %v", u, err)
	}
	// The customer server is not local: server discovery (localhost:port) and federation
	// HTTPS to it.
	if u, err := v.Verify(ctx, custTok.MatrixServerName, custTok.AccessToken); err != nil || u.String() != cust.UserID {
		t.Fatalf("customer over federation: %q %v", u, err)
	}
	for name, c := range map[string]struct{ server, token string }{
		"forged token":                           {b.Business.ServerName, "forged" + supTok.AccessToken[6:]},
		"customer's token claimed for business":  {b.Business.ServerName, custTok.AccessToken},
		"business token claimed for customer":    {b.Customer.ServerName, supTok.AccessToken},
		"an access token is not an OpenID token": {b.Business.ServerName, sup.AccessToken},
	} {
		if u, err := v.Verify(ctx, c.server, c.token); !errors.Is(err, ErrTokenRefused) {
			t.Errorf("%s: %q %v", name, u, err)
		}
	}
}

// The whole sign-in over HTTP with tokens from the real homeservers.
func TestSignInWithDendriteTokens(t *testing.T) {
	b := testBed(t)
	sup := register(t, b.Business, "sam")
	agent := register(t, b.Business, "carol")
	otherSup := register(t, b.Business, "gina")
	cust := register(t, b.Customer, "alice")
	staff := &staffList{roles: map[string]map[id.UserID]Role{
		"acme":   {id.UserID(sup.UserID): RoleSupervisor, id.UserID(agent.UserID): RoleAgent},
		"globex": {id.UserID(otherSup.UserID): RoleSupervisor},
	}}
	snap := acmeSnapshot()
	snap.Agents[0].UserID = agent.UserID
	snap.Conversations[0].AgentID = agent.UserID
	ts := newTestServer(t, func(o *Options) {
		o.Staff = staff
		o.Verifier = testbedVerifier(t, b)
		o.Source = newFakeSource(snap, globexSnapshot())
	})
	signIn := func(acct *testbed.Account, hs *testbed.Server, tenant string) (sessionAnswer, int) {
		tok := requestOpenIDToken(t, hs, acct)
		return ts.signIn(t, tenant, tok.AccessToken, tok.MatrixServerName)
	}
	if s, code := signIn(sup, b.Business, "acme"); code != 200 || s.Role != RoleSupervisor || s.UserID.String() != sup.UserID {
		t.Fatalf("supervisor: %d %+v", code, s)
	}
	s, code := signIn(agent, b.Business, "acme")
	if code != 200 || s.Role != RoleAgent {
		t.Fatalf("agent: %d %+v", code, s)
	}
	var view Snapshot
	if ts.do(t, http.MethodGet, "snapshot", s.Token, nil, &view); len(view.Agents) != 1 || view.Agents[0].UserID != agent.UserID || len(view.Conversations) != 1 {
		t.Fatalf("the agent's view: %s", mustJSON(view))
	}
	if _, code := signIn(cust, b.Customer, "acme"); code != http.StatusForbidden {
		t.Fatalf("a customer from the other server: %d", code)
	}
	if _, code := signIn(otherSup, b.Business, "acme"); code != http.StatusForbidden {
		t.Fatalf("another tenant's supervisor: %d", code)
	}
	custTok := requestOpenIDToken(t, b.Customer, cust)
	if _, code := ts.signIn(t, "acme", custTok.AccessToken, b.Business.ServerName); code != http.StatusUnauthorized {
		t.Fatalf("another server's token: %d", code)
	}
	if _, code := ts.signIn(t, "acme", "forgedforgedforged", b.Business.ServerName); code != http.StatusUnauthorized {
		t.Fatalf("forged token: %d", code)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bed.bed != nil {
		_ = bed.bed.Close()
	}
	os.Exit(code)
}
