package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"time"
)

// maxCachedStatements bounds the statements one connection keeps prepared: SQL built
// per call (multi-row inserts of varying length) would otherwise grow it without end.
const maxCachedStatements = 256

// writerWait is how long a SQLite writer waits for the one before it, as the
// busy_timeout pragma of Open says.
const writerWait = 10 * time.Second

// errWriterWait is what a SQLite writer gets when the one before it held the database
// longer than writerWait (SQLite itself would say "database is locked").
var errWriterWait = fmt.Errorf("database is locked: waited %s for another writer", writerWait)

// openPool opens a connection pool whose connections keep the statements they have
// prepared, keyed by their SQL: SQLite then parses a statement once per connection
// instead of on every call, and PostgreSQL runs one in a single round trip instead of
// two (parse, then bind and execute). Statements without arguments (scripts, schema
// upgrades, which may hold several statements) are not cached.
//
// On SQLite, writers also queue in-process for the database's single write lock:
// SQLite's own busy handler sleeps between tries (1 ms growing to 100 ms), which
// under load made a writer wait far longer than the transaction before it lasted.
func openPool(driverName, uri string) (*sql.DB, error) {
	probe, err := sql.Open(driverName, uri)
	if err != nil {
		return nil, err
	}
	base := probe.Driver()
	_ = probe.Close()
	c := &cachingConnector{uri: uri, drv: base}
	if dc, ok := base.(driver.DriverContext); ok {
		if c.inner, err = dc.OpenConnector(uri); err != nil {
			return nil, err
		}
	}
	if driverName == "sqlite" {
		c.writer = &writeGate{}
	}
	return sql.OpenDB(c), nil
}

// cachingConnector makes cachingConns.
type cachingConnector struct {
	uri   string
	drv   driver.Driver
	inner driver.Connector
	// writer, when set, is held by the connection writing (SQLite).
	writer *writeGate
}

func (c *cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	var conn driver.Conn
	var err error
	if c.inner != nil {
		conn, err = c.inner.Connect(ctx)
	} else {
		conn, err = c.drv.Open(c.uri)
	}
	if err != nil {
		return nil, err
	}
	return &cachingConn{Conn: conn, writer: c.writer, stmts: map[string]*cachedStmt{}}, nil
}

func (c *cachingConnector) Driver() driver.Driver { return c.drv }

// cachedStmt is a statement kept prepared; busy while rows read from it are open.
type cachedStmt struct {
	stmt driver.Stmt
	busy bool
}

// cachingConn is one connection with its prepared statements. database/sql uses a
// connection from one goroutine at a time, so it needs no lock.
type cachingConn struct {
	driver.Conn
	writer *writeGate
	// writing is set while this connection holds writer for a transaction.
	writing bool
	stmts   map[string]*cachedStmt
}

// lockWriter waits for the write lock (SQLite only).
func (c *cachingConn) lockWriter(ctx context.Context) error {
	if c.writer == nil {
		return nil
	}
	return c.writer.lock(ctx)
}

func (c *cachingConn) unlockWriter() {
	if c.writer != nil {
		c.writer.unlock()
	}
}

// statement returns the cached statement for query, preparing it on first use; nil
// when it is in use by open rows (the caller then runs the query unprepared).
func (c *cachingConn) statement(ctx context.Context, query string) (*cachedStmt, error) {
	if s := c.stmts[query]; s != nil {
		if s.busy {
			return nil, nil
		}
		return s, nil
	}
	if len(c.stmts) >= maxCachedStatements {
		for q, s := range c.stmts {
			if !s.busy {
				_ = s.stmt.Close()
				delete(c.stmts, q)
				break
			}
		}
	}
	var stmt driver.Stmt
	var err error
	if pc, ok := c.Conn.(driver.ConnPrepareContext); ok {
		stmt, err = pc.PrepareContext(ctx, query)
	} else {
		stmt, err = c.Conn.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	s := &cachedStmt{stmt: stmt}
	c.stmts[query] = s
	return s, nil
}

// forget drops a statement that failed: a statement that went stale (the schema
// changed under it) must not fail every later call.
func (c *cachingConn) forget(query string, s *cachedStmt) {
	if c.stmts[query] == s {
		delete(c.stmts, query)
		_ = s.stmt.Close()
	}
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if !c.writing {
		if err := c.lockWriter(ctx); err != nil {
			return nil, err
		}
		defer c.unlockWriter()
	}
	if len(args) > 0 {
		s, err := c.statement(ctx, query)
		if err != nil {
			return nil, err
		}
		if s != nil {
			if sc, ok := s.stmt.(driver.StmtExecContext); ok {
				res, err := sc.ExecContext(ctx, args)
				if err != nil {
					c.forget(query, s)
				}
				return res, err
			}
		}
	}
	if ec, ok := c.Conn.(driver.ExecerContext); ok {
		return ec.ExecContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if len(args) > 0 {
		s, err := c.statement(ctx, query)
		if err != nil {
			return nil, err
		}
		if s != nil {
			if sc, ok := s.stmt.(driver.StmtQueryContext); ok {
				rows, err := sc.QueryContext(ctx, args)
				if err != nil {
					c.forget(query, s)
					return nil, err
				}
				s.busy = true
				return &cachedRows{Rows: rows, stmt: s}, nil
			}
		}
	}
	if qc, ok := c.Conn.(driver.QueryerContext); ok {
		return qc.QueryContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if pc, ok := c.Conn.(driver.ConnPrepareContext); ok {
		return pc.PrepareContext(ctx, query)
	}
	return c.Conn.Prepare(query)
}

func (c *cachingConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if err := c.lockWriter(ctx); err != nil {
		return nil, err
	}
	var tx driver.Tx
	var err error
	if bt, ok := c.Conn.(driver.ConnBeginTx); ok {
		tx, err = bt.BeginTx(ctx, opts)
	} else {
		tx, err = c.Conn.Begin() //nolint:staticcheck // drivers without BeginTx
	}
	if err != nil {
		c.unlockWriter()
		return nil, err
	}
	c.writing = c.writer != nil
	return &cachingTx{Tx: tx, conn: c}, nil
}

func (c *cachingConn) Close() error {
	for q, s := range c.stmts {
		_ = s.stmt.Close()
		delete(c.stmts, q)
	}
	if c.writing {
		c.writing = false
		c.unlockWriter()
	}
	return c.Conn.Close()
}

func (c *cachingConn) ResetSession(ctx context.Context) error {
	if rs, ok := c.Conn.(driver.SessionResetter); ok {
		return rs.ResetSession(ctx)
	}
	return nil
}

func (c *cachingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *cachingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// CheckNamedValue lets the driver convert arguments its own way (lib/pq does).
func (c *cachingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if nc, ok := c.Conn.(driver.NamedValueChecker); ok {
		return nc.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// cachingTx releases the SQLite write lock when the transaction ends.
type cachingTx struct {
	driver.Tx
	conn *cachingConn
}

func (t *cachingTx) Commit() error {
	defer t.end()
	return t.Tx.Commit()
}

func (t *cachingTx) Rollback() error {
	defer t.end()
	return t.Tx.Rollback()
}

func (t *cachingTx) end() {
	if t.conn.writing {
		t.conn.writing = false
		t.conn.unlockWriter()
	}
}

// cachedRows frees its statement for the next call once closed.
type cachedRows struct {
	driver.Rows
	stmt   *cachedStmt
	closed bool
}

func (r *cachedRows) Close() error {
	if !r.closed {
		r.closed = true
		r.stmt.busy = false
	}
	return r.Rows.Close()
}

// Next, ColumnTypeDatabaseTypeName and friends are optional interfaces of the
// driver's rows; the ones database/sql and dbutil use are passed on.
func (r *cachedRows) Next(dest []driver.Value) error { return r.Rows.Next(dest) }

func (r *cachedRows) HasNextResultSet() bool {
	if n, ok := r.Rows.(driver.RowsNextResultSet); ok {
		return n.HasNextResultSet()
	}
	return false
}

func (r *cachedRows) NextResultSet() error {
	if n, ok := r.Rows.(driver.RowsNextResultSet); ok {
		return n.NextResultSet()
	}
	return io.EOF
}

func (r *cachedRows) ColumnTypeDatabaseTypeName(index int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(index)
	}
	return ""
}

var (
	_ driver.Connector          = (*cachingConnector)(nil)
	_ driver.ExecerContext      = (*cachingConn)(nil)
	_ driver.QueryerContext     = (*cachingConn)(nil)
	_ driver.ConnBeginTx        = (*cachingConn)(nil)
	_ driver.ConnPrepareContext = (*cachingConn)(nil)
	_ driver.SessionResetter    = (*cachingConn)(nil)
	_ driver.Validator          = (*cachingConn)(nil)
	_ driver.NamedValueChecker  = (*cachingConn)(nil)
	_ driver.Pinger             = (*cachingConn)(nil)
	_ driver.RowsNextResultSet  = (*cachedRows)(nil)
)
