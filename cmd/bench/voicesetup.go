package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/internal/deploy"
	"github.com/contactcenter/contactcenter/internal/netns"
	"github.com/contactcenter/contactcenter/routing"
	"github.com/contactcenter/contactcenter/testbed"
	"github.com/contactcenter/contactcenter/testclient/browser"
)

// Call setup of the voice part: a customer in headless Chromium (matrix-js-sdk's
// MatrixCall, encrypted DM) calls the business identity and an agent answers in
// the desk room, in another Chromium; the same caller calls a user of the
// business homeserver directly. Setup is placeVoiceCall → each side hears the
// other's tone; the relayed ÷ direct ratio at p50 and p95 is what the relay adds.
//
// Chromium gathers candidates on every interface whatever its flags say, so the
// measurement runs in a network namespace of its own where only lo is up: the
// bench runs itself again there (internal/netns; root or CAP_SYS_ADMIN), after
// installing Dendrite and the page's npm packages outside, where the network is.
// The child reports its figures as JSON on its standard output.

// setupChildEnv carries the child's options; its presence makes the process the child.
const setupChildEnv = "CONTACTCENTER_BENCH_CALL_SETUP"

var setupRuns int

func init() {
	flag.IntVar(&setupRuns, "voice-setup-runs", 5, "browser calls of each kind (relayed, direct) for the voice part's call-setup figure; 0: none")
	// The re-executed bench measures call setup and nothing else.
	if netns.Child() && os.Getenv(setupChildEnv) != "" {
		os.Exit(runSetupChild())
	}
}

// callSetup is the figure: every call's setup, the percentiles and their ratios.
type callSetup struct {
	Runs      int                  `json:"runs"`
	RelayedMS []float64            `json:"relayed_ms"`
	DirectMS  []float64            `json:"direct_ms"`
	Relayed   percentilesMS        `json:"relayed"`
	Direct    percentilesMS        `json:"direct"`
	RatioP50  float64              `json:"ratio_p50"`
	RatioP95  float64              `json:"ratio_p95"`
	Skipped   string               `json:"skipped,omitempty"`
	AnswerMS  map[string][]float64 `json:"answer_ms,omitempty"`
}

type percentilesMS struct {
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
}

// nearestRank is the p-th percentile (0..100) of xs, nearest rank.
func nearestRank(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	rank := int(p/100*float64(len(s))+0.5) - 1
	return s[min(max(rank, 0), len(s)-1)]
}

// measureCallSetup runs the browser calls in a namespace of their own. Without
// the right to create one, the figure is skipped (with the reason), not failed.
func measureCallSetup(ctx context.Context, log zerolog.Logger) (*callSetup, error) {
	if setupRuns <= 0 {
		return nil, nil
	}
	if err := firstOf(testbed.EnsureDendrite(ctx)); err != nil {
		return nil, err
	}
	if err := browser.Ensure(ctx); err != nil {
		return nil, err
	}
	opts, err := json.Marshal(map[string]int{"runs": setupRuns})
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	code, err := netns.Run(nil, []string{setupChildEnv + "=" + string(opts)}, &out)
	if err != nil {
		log.Warn().Err(err).Msg("Call setup needs a network namespace of its own (root or CAP_SYS_ADMIN): skipped")
		return &callSetup{Skipped: "no network namespace: " + err.Error()}, nil
	}
	if code != 0 {
		return nil, fmt.Errorf("call setup: the isolated bench exited with %d", code)
	}
	var res callSetup
	if err = json.Unmarshal(out.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("call setup: the isolated bench's report: %w", err)
	}
	return &res, nil
}

func firstOf[T any](_ T, err error) error { return err }

// runSetupChild is the bench in its namespace: it measures, prints the JSON and
// returns the exit code.
func runSetupChild() int {
	log := zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: time.TimeOnly}).Level(zerolog.InfoLevel).With().Timestamp().Logger()
	if err := netns.EnterChild(); err != nil {
		log.Error().Err(err).Msg("Call setup")
		return 1
	}
	var opts struct{ Runs int }
	if err := json.Unmarshal([]byte(os.Getenv(setupChildEnv)), &opts); err != nil || opts.Runs < 1 {
		log.Error().Err(err).Msg("Call setup: bad options")
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(opts.Runs)*4*time.Minute+5*time.Minute)
	defer cancel()
	res, err := timeCallSetup(ctx, opts.Runs, log)
	if err != nil {
		log.Error().Err(err).Msg("Call setup")
		return 1
	}
	if err = json.NewEncoder(os.Stdout).Encode(res); err != nil {
		return 1
	}
	return 0
}

// setupBed is the deployment and the three browsers of the call-setup figure.
type setupBed struct {
	d                     *deploy.Deployment
	agent                 *observer
	caller, agentB, peerB *browser.Browser
	business              id.UserID
	serviceDM, directDM   string
	dir                   string
}

const (
	callerHz = 440
	calleeHz = 660
)

func timeCallSetup(ctx context.Context, runs int, log zerolog.Logger) (*callSetup, error) {
	b, err := startSetupBed(ctx, log)
	if b != nil {
		defer b.close()
	}
	if err != nil {
		return nil, err
	}
	res := &callSetup{Runs: runs, AnswerMS: map[string][]float64{}}
	// The first call of each kind warms up (joins, keys, the relay's first
	// PeerConnections) and is not counted; then the kinds alternate.
	for i := 0; i <= runs; i++ {
		for _, relayed := range []bool{i%2 == 0, i%2 != 0} {
			callee, room, kind := b.peerB, b.directDM, "direct"
			if relayed {
				callee, room, kind = b.agentB, b.serviceDM, "relayed"
			}
			s, err := browser.TwoWayCall(ctx, b.caller, callee, room, 60*time.Second)
			if err != nil {
				return nil, fmt.Errorf("%s call %d: %w", kind, i, err)
			}
			if err = b.hangUp(ctx, callee, relayed); err != nil {
				return nil, fmt.Errorf("%s call %d: %w", kind, i, err)
			}
			ms := float64(s.Duration().Microseconds()) / 1000
			log.Info().Str("kind", kind).Int("run", i).Float64("setup_ms", ms).Msg("Browser call")
			if i == 0 {
				continue
			}
			if relayed {
				res.RelayedMS = append(res.RelayedMS, ms)
			} else {
				res.DirectMS = append(res.DirectMS, ms)
			}
			res.AnswerMS[kind] = append(res.AnswerMS[kind], float64(s.AnswerTime().Microseconds())/1000)
		}
	}
	res.Relayed = percentilesMS{P50: nearestRank(res.RelayedMS, 50), P95: nearestRank(res.RelayedMS, 95)}
	res.Direct = percentilesMS{P50: nearestRank(res.DirectMS, 50), P95: nearestRank(res.DirectMS, 95)}
	if res.Direct.P50 > 0 && res.Direct.P95 > 0 {
		res.RatioP50, res.RatioP95 = res.Relayed.P50/res.Direct.P50, res.Relayed.P95/res.Direct.P95
	}
	return res, nil
}

// hangUp ends the call from the caller and waits until the callee's call ended
// and, relayed, the service has no call left (a new call in a room with a live
// one is refused).
func (b *setupBed) hangUp(ctx context.Context, callee *browser.Browser, relayed bool) error {
	if _, err := b.caller.Hangup(ctx); err != nil {
		return err
	}
	if _, err := callee.WaitState(ctx, "ended", 15*time.Second); err != nil {
		return err
	}
	if !relayed {
		return nil
	}
	waitCtx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	return pollUntil(waitCtx, 50*time.Millisecond, func() (bool, error) {
		live, err := b.d.Service.DB.Calls().Live(waitCtx)
		return len(live) == 0, err
	})
}

// startSetupBed starts the deployment with calls on and one agent, who is ready,
// takes the customer's conversation and sits in its desk room; the caller has an
// encrypted DM with the business and one with a user of the business homeserver.
func startSetupBed(ctx context.Context, log zerolog.Logger) (b *setupBed, err error) {
	b = &setupBed{}
	if b.dir, err = os.MkdirTemp("", "bench-call-setup-"); err != nil {
		return nil, err
	}
	b.d, err = deploy.Start(ctx, deploy.Options{Dir: filepath.Join(b.dir, "deploy"), Database: "sqlite", NoService: true, Log: log,
		Configure: func(cfg *config.Config) {
			cfg.Tenants[0].Staff = []routing.Staff{{UserID: "@agent:" + cfg.Homeserver.Domain, Name: "Agent", Role: routing.RoleAgent}}
			cfg.Tenants[0].ConsentWait, cfg.Tenants[0].Workflow = 0, nil
			cfg.Voice.Enabled, cfg.Voice.LoopbackOnly, cfg.Voice.RingTimeout = true, true, 40*time.Second
		}})
	if err != nil {
		return b, err
	}
	agent, err := b.d.Bed.Business.Register(ctx, "agent", "agent-password", false)
	if err != nil {
		return b, err
	}
	for _, r := range []struct {
		hs   *testbed.Server
		name string
	}{{b.d.Bed.Customer, "caller"}, {b.d.Bed.Business, "peer"}} {
		if _, err = r.hs.Register(ctx, r.name, r.name+"-password", false); err != nil {
			return b, err
		}
	}
	if err = b.d.StartService(ctx); err != nil {
		return b, err
	}
	b.business = b.d.Config.BusinessUserID(&b.d.Config.Tenants[0])
	if b.agent, err = newObserver(ctx, b.d.Bed.Business.URL, id.UserID(agent.UserID), agent.AccessToken, log); err != nil {
		return b, err
	}
	start := func(hz float64, hs *testbed.Server, user string) (*browser.Browser, error) {
		br, err := browser.Start(ctx, browser.Options{ToneHz: hz, Dir: filepath.Join(b.dir, user)})
		if err != nil {
			return nil, err
		}
		_, _, err = br.Login(ctx, browser.LoginOptions{HomeserverURL: hs.URL, User: id.NewUserID(user, hs.ServerName).String(),
			Password: user + "-password", CrossSigning: true})
		return br, err
	}
	if b.caller, err = start(callerHz, b.d.Bed.Customer, "caller"); err != nil {
		return b, err
	}
	if b.agentB, err = start(calleeHz, b.d.Bed.Business, "agent"); err != nil {
		return b, err
	}
	if b.peerB, err = start(calleeHz, b.d.Bed.Business, "peer"); err != nil {
		return b, err
	}
	return b, b.openRooms(ctx)
}

// openRooms has the agent take the caller's conversation (ready, offer accepted,
// desk room joined) and opens the direct DM.
func (b *setupBed) openRooms(ctx context.Context) error {
	tenant := b.d.Config.Tenants[0].ID
	var control id.RoomID
	err := pollUntil(ctx, 50*time.Millisecond, func() (bool, error) {
		record, err := b.d.Service.DB.Staff.Get(ctx, tenant, b.agent.UserID)
		if err == nil && record != nil {
			control = record.ControlRoomID
		}
		return control != "", err
	})
	if err != nil {
		return err
	}
	rb := &relayBed{agent: b.agent, business: b.business}
	if err = joinWhenInvited(ctx, b.agent.Client, control); err != nil {
		return err
	}
	if err = rb.command(ctx, control, "!ready", "You are now **ready**"); err != nil {
		return err
	}
	if b.serviceDM, err = b.caller.CreateDM(ctx, b.business.String(), true); err != nil {
		return err
	}
	if err = b.caller.WaitJoined(ctx, b.serviceDM, b.business.String()); err != nil {
		return err
	}
	if err = b.agent.waitMatch(ctx, control, b.business, "Reply **accept**", setupTimeout); err != nil {
		return fmt.Errorf("the offer: %w", err)
	}
	if err = rb.command(ctx, control, "accept", "is yours"); err != nil {
		return err
	}
	conv, err := b.d.Service.DB.Conversation.Open(ctx, id.RoomID(b.serviceDM))
	if err != nil || conv == nil {
		return errors.Join(errors.New("no conversation in the caller's DM"), err)
	}
	for _, room := range []id.RoomID{conv.DeskRoom, conv.SideRoom} {
		if err = joinWhenInvited(ctx, b.agent.Client, room); err != nil {
			return err
		}
	}
	if b.directDM, err = b.caller.CreateDM(ctx, b.peerB.UserID, true); err != nil {
		return err
	}
	if err = b.peerB.Join(ctx, b.directDM); err != nil {
		return err
	}
	return b.caller.WaitJoined(ctx, b.directDM, b.peerB.UserID)
}

func (b *setupBed) close() {
	for _, br := range []*browser.Browser{b.caller, b.agentB, b.peerB} {
		if br != nil {
			_ = br.Close()
		}
	}
	if b.agent != nil {
		b.agent.close()
	}
	if b.d != nil {
		b.d.Close()
	}
	_ = os.RemoveAll(b.dir)
}

func printCallSetup(out io.Writer, res *callSetup) {
	if res == nil {
		return
	}
	fmt.Fprintf(out, "\n== Voice call setup, browser (matrix-js-sdk) placeVoiceCall → both hear the other's tone, encrypted DM, loopback namespace\n")
	if res.Skipped != "" {
		fmt.Fprintf(out, "skipped: %s\n", res.Skipped)
		return
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "calls each\trelayed p50 ms\tp95 ms\tdirect p50 ms\tp95 ms\trelayed/direct p50\tp95\t")
	fmt.Fprintf(tw, "%d\t%.0f\t%.0f\t%.0f\t%.0f\t%.2f\t%.2f\t\n", res.Runs, res.Relayed.P50, res.Relayed.P95,
		res.Direct.P50, res.Direct.P95, res.RatioP50, res.RatioP95)
	tw.Flush()
}
