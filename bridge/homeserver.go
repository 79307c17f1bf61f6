package bridge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
)

// homeserverWait is how long start-up waits for the homeserver to answer at all.
var homeserverWait = 2 * time.Minute

// checkHomeserver waits for the homeserver, then proves the registration is installed
// and the namespace is ours, so that a misconfiguration fails at start with a hint
// instead of as silence later.
func (b *Bridge) checkHomeserver(ctx context.Context) error {
	log := zerolog.Ctx(ctx)
	bot := b.AS.BotIntent()
	deadline := time.Now().Add(homeserverWait)
	for {
		versions, err := bot.Versions(ctx)
		if err == nil {
			*b.AS.SpecVersions = *versions
			break
		}
		if time.Now().After(deadline) {
			return fatal(ExitHomeserverDown, "is homeserver.address right and the homeserver running?", err)
		}
		log.Warn().Err(err).Msg("Homeserver not reachable yet, retrying")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	if err := b.ensureRegistered(ctx, bot.UserID.String(), bot.EnsureRegistered); err != nil {
		return err
	}
	if _, err := bot.Whoami(ctx); err != nil {
		return classifyTokenError(err)
	}
	if b.AS.SpecVersions.Supports(mautrix.FeatureAppservicePing) {
		// The ping proves the homeserver can reach us too (the other half of the link).
		txnID := fmt.Sprintf("startup-%d", time.Now().UnixNano())
		if resp, err := bot.AppservicePing(ctx, b.Config.Appservice.ID, txnID); err != nil {
			log.Warn().Err(err).Msg("Homeserver could not reach the service (ping failed); check appservice.address")
		} else {
			log.Debug().Int64("duration_ms", resp.DurationMS).Msg("Homeserver pinged the service")
		}
	} else {
		log.Debug().Msg("Homeserver does not support the appservice ping; skipped")
	}
	return nil
}

// ensureRegistered registers an appservice user, mapping the errors that mean a broken
// installation to exit codes with hints.
func (b *Bridge) ensureRegistered(ctx context.Context, who string, register func(context.Context) error) error {
	if err := register(ctx); err != nil {
		if errors.Is(err, mautrix.MUnknownToken) || errors.Is(err, mautrix.MExclusive) {
			return classifyTokenError(err)
		}
		return fatal(ExitHomeserverDown, "could not register "+who+" on the homeserver", err)
	}
	return nil
}

// classifyTokenError turns the homeserver's answer to an appservice request into a
// fatal error with a hint.
func classifyTokenError(err error) error {
	switch {
	case errors.Is(err, mautrix.MUnknownToken):
		return fatal(ExitUnknownToken, "the homeserver does not know appservice.as_token: install the registration file (-g) in the homeserver and restart it", err)
	case errors.Is(err, mautrix.MExclusive):
		return fatal(ExitExclusive, "the user is outside the appservice's namespaces: regenerate the registration (-g) after changing usernames or the domain, and reinstall it", err)
	default:
		return fatal(ExitHomeserverDown, "the homeserver refused an appservice request", err)
	}
}
