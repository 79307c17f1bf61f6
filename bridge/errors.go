package bridge

// firstErr returns the first error of steps that ran in order inside one database
// transaction. Every step runs (the arguments are evaluated first), but after a
// failure the transaction is rolled back anyway, so the first error is the one that
// explains it.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
