package fakehs

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
)

// PushTransaction does what a homeserver does to an appservice: it PUTs a transaction
// (body: {"events": [...]}) with the hs_token, and wants 200.
func PushTransaction(ctx context.Context, client *http.Client, appserviceURL, hsToken, txnID string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, appserviceURL+"/_matrix/app/v1/transactions/"+txnID, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+hsToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("transaction %s to %s: %s: %s", txnID, appserviceURL, resp.Status, answer)
	}
	return nil
}
