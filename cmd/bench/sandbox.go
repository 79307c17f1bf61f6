package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/contactcenter/contactcenter/internal/deploy"
	"github.com/contactcenter/contactcenter/testbed"
)

// sandboxRun is one start of the local deployment.
type sandboxRun struct {
	ReadyMS   float64 `json:"ready_ms"`    // deploy.Start until it returned (service ready)
	TestBedMS float64 `json:"test_bed_ms"` // of which the two Dendrites and their federation check
	ServiceMS float64 `json:"service_ms"`  // the rest: config, registration, service start-up
	CloseMS   float64 `json:"close_ms"`    // stopping everything (not part of ready)
}

type sandboxResult struct {
	What string       `json:"what"`
	Runs []sandboxRun `json:"runs"`
	// Command is `go run ./cmd/sandbox` (what `make sandbox` runs) from its start until
	// sandbox.json says ready: compiling (cached), the deployment and the demo users.
	CommandWhat  string    `json:"command_what,omitempty"`
	CommandMS    summary   `json:"command_ready_ms"`
	CommandRuns  []float64 `json:"command_runs_ms,omitempty"`
	ReadyMS      summary   `json:"ready_ms"`
	TestBedMS    summary   `json:"test_bed_ms"`
	ServiceMS    summary   `json:"service_ms"`
	TestBedShare summary   `json:"test_bed_share"` // per run test_bed_ms / ready_ms
}

// measureSandbox starts the sandbox's deployment (two Dendrites, the service on
// SQLite) as `make sandbox` does, runs times, then runs the sandbox command itself
// commandRuns times. Dendrite is installed first, untimed: the issue asks for the time
// after the first install.
func measureSandbox(ctx context.Context, runs, commandRuns int, log zerolog.Logger) (*sandboxResult, error) {
	if _, err := testbed.EnsureDendrite(ctx); err != nil {
		return nil, fmt.Errorf("installing Dendrite: %w", err)
	}
	res := &sandboxResult{What: "deploy.Start(sqlite) until the service is ready; excludes `go run` compiling and the demo users the sandbox registers afterwards"}
	var ready, bed, svc, share []float64
	for i := range runs {
		begin := time.Now()
		d, err := deploy.Start(ctx, deploy.Options{Database: "sqlite", Log: zerolog.Nop()})
		took := time.Since(begin)
		if err != nil {
			return nil, fmt.Errorf("sandbox run %d: %w", i+1, err)
		}
		run := sandboxRun{ReadyMS: ms(took), TestBedMS: ms(d.Bed.StartupDuration)}
		run.ServiceMS = run.ReadyMS - run.TestBedMS
		closeBegin := time.Now()
		d.Close()
		run.CloseMS = ms(time.Since(closeBegin))
		log.Info().Int("run", i+1).Float64("ready_ms", run.ReadyMS).Float64("test_bed_ms", run.TestBedMS).Msg("Sandbox started")
		res.Runs = append(res.Runs, run)
		ready, bed, svc = append(ready, run.ReadyMS), append(bed, run.TestBedMS), append(svc, run.ServiceMS)
		share = append(share, run.TestBedMS/run.ReadyMS)
	}
	res.ReadyMS, res.TestBedMS, res.ServiceMS, res.TestBedShare = summarize(ready), summarize(bed), summarize(svc), summarize(share)
	if commandRuns == 0 {
		return res, nil
	}
	res.CommandWhat = "`go run ./cmd/sandbox` (what `make sandbox` runs) until sandbox.json has ready: true; first run untimed (compiles)"
	for i := range commandRuns + 1 {
		took, err := runSandboxCommand(ctx)
		if err != nil {
			return nil, fmt.Errorf("go run ./cmd/sandbox: %w", err)
		}
		log.Info().Int("run", i).Float64("ready_ms", ms(took)).Bool("warm_up", i == 0).Msg("Sandbox command ready")
		if i > 0 {
			res.CommandRuns = append(res.CommandRuns, ms(took))
		}
	}
	res.CommandMS = summarize(res.CommandRuns)
	return res, nil
}

// runSandboxCommand runs the sandbox as `make sandbox` does, in its own process group
// and its own directory, until it reports ready, then interrupts it as Ctrl-C would.
func runSandboxCommand(ctx context.Context) (time.Duration, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return 0, err
	}
	tmp, err := os.MkdirTemp("", "ccbench-sandbox-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "sandbox-data")
	cmd := exec.Command("go", "run", "./cmd/sandbox")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "SANDBOX_DIR="+dir, "CGO_ENABLED=0", "GOFLAGS=-tags=goolm -buildvcs=false")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	begin := time.Now()
	if err = cmd.Start(); err != nil {
		return 0, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// Ctrl-C reaches the whole process group: `go run` and the sandbox it started.
	defer func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}()
	deadline := time.After(3 * time.Minute)
	for {
		var m struct {
			Ready bool `json:"ready"`
		}
		if data, err := os.ReadFile(filepath.Join(dir, "sandbox.json")); err == nil && json.Unmarshal(data, &m) == nil && m.Ready {
			return time.Since(begin), nil
		}
		select {
		case err := <-exited:
			exited <- err // for the deferred wait
			return 0, fmt.Errorf("exited before ready (%v): %s", err, tail(stderr.String(), 2000))
		case <-deadline:
			return 0, errors.New("not ready after 3 minutes")
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil || len(bytes.TrimSpace(out)) == 0 {
		return "", fmt.Errorf("finding the module root: %v", err)
	}
	return filepath.Dir(string(bytes.TrimSpace(out))), nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
