package database

// The contact log's queries, for the plan checks of the tests.
const (
	ContactLogRangeQuery        = contactLogRangeQuery
	ContactLogExportQuery       = contactLogExportQuery
	ContactLogStatusBeforeQuery = contactLogStatusBeforeQuery
)
