package bridge

import "github.com/contactcenter/contactcenter/contextapi"

// contextAPI builds the tenants' context API over the consent ledger.
func (b *Bridge) contextAPI() (*contextapi.Handler, error) {
	var tenants []contextapi.Tenant
	for i := range b.Config.Tenants {
		t := &b.Config.Tenants[i]
		tenants = append(tenants, contextapi.Tenant{ID: t.ID, KeyHashes: t.APIKeyHashes()})
	}
	api, err := contextapi.New(b.contextStore(), tenants)
	if err != nil {
		return nil, err
	}
	api.LimitPerKey(b.Config.Limits.APIRequests.Limit())
	return api, nil
}
