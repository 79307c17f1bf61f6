package pgcluster

import (
	"context"
	"sync"
)

var shared struct {
	mu sync.Mutex
	c  *Cluster
}

// Shared returns the cluster shared by the whole test process, starting it
// on first use. stop stops it (later calls to Shared start a new one); call
// it from TestMain after m.Run, or use Main. If nobody stops it, postgres
// still dies with the process and a later Start removes its directory.
func Shared(ctx context.Context) (c *Cluster, stop func() error, err error) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.c == nil {
		if shared.c, err = Start(ctx, ""); err != nil {
			return nil, StopShared, err
		}
	}
	return shared.c, StopShared, nil
}

// StopShared stops the shared cluster, if one is running.
func StopShared() error {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.c == nil {
		return nil
	}
	err := shared.c.Stop()
	shared.c = nil
	return err
}

// Main runs the tests and then stops the shared cluster. Use it as
//
//	func TestMain(m *testing.M) { os.Exit(pgcluster.Main(m)) }
func Main(m interface{ Run() int }) int {
	code := m.Run()
	if err := StopShared(); err != nil && code == 0 {
		println("pgcluster: stop shared cluster:", err.Error())
		code = 1
	}
	return code
}
