// Package calls tests voice calls end to end with real browsers: headless
// Chromium running matrix-js-sdk's MatrixCall (testclient/browser) against the
// two test-bed Dendrites. The whole test binary runs in a private network
// namespace where only lo is up, so every candidate, and all media, is on
// loopback.
package calls

import (
	"context"
	"fmt"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contactcenter/contactcenter/internal/netns"
	"github.com/contactcenter/contactcenter/testbed"
	"github.com/contactcenter/contactcenter/testbed/pgcluster"
	"github.com/contactcenter/contactcenter/testclient/browser"
)

func TestMain(m *testing.M) {
	// What needs the network is installed before the namespace cuts it off.
	prepare := func() error {
		ctx := context.Background()
		if _, err := testbed.EnsureDendrite(ctx); err != nil {
			return err
		}
		return browser.Ensure(ctx)
	}
	os.Exit(netns.Main(runner(func() int { return pgcluster.Main(m) }), prepare))
}

type runner func() int

func (r runner) Run() int { return r() }

// newHomeservers starts the two test-bed homeservers (customer and business
// side), without the service: enough for calls between two users.
func newHomeservers(t *testing.T) *testbed.Bed {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test")
	}
	bed, err := testbed.Start(context.Background(), testbed.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bed.Close() })
	return bed
}

var userCounter atomic.Int64

// browserUser is a headless Chromium whose fake microphone plays toneHz, logged
// in as a new user of hs the way Element logs in (Rust crypto, cross-signing
// bootstrapped, insecure devices excluded).
type browserUser struct {
	hs     *testbed.Server
	toneHz float64
}

// newBrowsers starts and logs in one browser per user, all at once.
func newBrowsers(t *testing.T, users ...browserUser) []*browser.Browser {
	t.Helper()
	ctx := context.Background()
	out := make([]*browser.Browser, len(users))
	errs := make([]error, len(users))
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Go(func() {
			name := fmt.Sprintf("caller%d", userCounter.Add(1))
			acct, err := u.hs.Register(ctx, name, name+"-password", false)
			if err != nil {
				errs[i] = err
				return
			}
			b, err := browser.Start(ctx, browser.Options{ToneHz: u.toneHz, Dir: t.TempDir()})
			if err != nil {
				errs[i] = err
				return
			}
			out[i] = b
			_, _, errs[i] = b.Login(ctx, browser.LoginOptions{
				HomeserverURL: u.hs.URL, User: acct.UserID, Password: name + "-password", CrossSigning: true,
			})
		})
	}
	wg.Wait()
	for _, b := range out {
		if b != nil {
			t.Cleanup(func() {
				if err := b.Close(); err != nil {
					t.Errorf("closing the browser: %v", err)
				}
			})
		}
	}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("browser %d: %v", i, err)
		}
	}
	return out
}

// percentile returns the p-th percentile (0..100, nearest rank) of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := int(p/100*float64(len(s))+0.5) - 1
	return s[min(max(rank, 0), len(s)-1)]
}
