package main

import (
	"time"

	"github.com/contactcenter/contactcenter/config"
	"github.com/contactcenter/contactcenter/contextapi"
	"github.com/contactcenter/contactcenter/outbound"
	"github.com/contactcenter/contactcenter/routing"
)

// configureOutbound gives each tenant an admin API key (keys: tenant ID → key; the
// config keeps only the hash) and a contact policy: ACME may contact customers at
// any hour, so that demos work whenever they are run; Globex only in office hours,
// so that demos show deferral.
func configureOutbound(cfg *config.Config, keys map[string]string) {
	for i := range cfg.Tenants {
		t := &cfg.Tenants[i]
		keys[t.ID] = contextapi.NewKey()
		t.AdminAPIKeys = []string{contextapi.KeyHashConfig(keys[t.ID])}
		switch t.ID {
		case "acme":
			t.Outbound = &outbound.Config{MaxContacts: 5, Period: routing.Duration(24 * time.Hour)}
		case "globex":
			office := "09:00-17:00"
			t.Outbound = &outbound.Config{
				Window:      map[string]string{"mon": office, "tue": office, "wed": office, "thu": office, "fri": office},
				MaxContacts: 2, Period: routing.Duration(7 * 24 * time.Hour),
			}
		}
	}
}
