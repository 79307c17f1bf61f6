// Package reporting computes a tenant's contact-center figures from the contact
// log: pure functions over log entries, with no Matrix, HTTP or database. The store
// (database.ContactLogQuery) reads the entries; reportapi serves the results.
//
// A contact is one conversation. It belongs to the period, day (in the tenant's
// time zone), step and agent of its opening: the day it was opened, the step it was
// first queued at, and the agent who served it last (none if nobody did), so a
// conversation spanning midnight counts on the day it began. Every formula:
//
//	figure                       formula
//	queued                       contacts with a queued entry
//	handled                      queued contacts some agent accepted
//	abandoned                    queued contacts with an abandoned entry and no accepted one
//	short_abandoned              abandoned ones abandoned less than ShortAbandon after queued
//	offers, missed_offers        offered and offer_missed entries (by agent: the agent offered)
//	declined_offers              offer_declined entries
//	transfers                    transferred entries
//	ended_by                     handled or unhandled contacts that ended, by who ended them
//	asa_seconds                  mean over handled contacts of (first accepted − queued)
//	first_response_seconds       mean over contacts with one of (first agent response − queued)
//	aht_seconds                  mean over handled contacts that ended of (time served by any
//	                             agent, accepted or transferred to until transferred, requeued
//	                             or ended, + wrap-up: ended → wrap_up_ended)
//	abandonment_rate             abandoned ÷ queued
//	abandonment_rate_excluding_short (abandoned − short_abandoned) ÷ (queued − short_abandoned)
//	service_level                handled with (first accepted − queued) ≤ ServiceLevelThreshold
//	                             ÷ queued (÷ (queued − abandoned) unless AbandonsCount)
//	service_level_met            service_level ≥ ServiceLevelTarget
//	occupancy                    Σ agents' time serving at least one conversation (wrap-up
//	                             included) while staffed ÷ Σ agents' staffed time (any status
//	                             but away and offline), both within the period (the day, for
//	                             days; the agent's own, for agents; the total's alone by step)
//	consent                      consent answers given/refused/withdrawn per category
//	calls_started/answered       call entries; outbound: outcomes of outbound contacts
//
// Means are exact: sums in milliseconds divided once. A mean or rate without
// samples is null, never zero. Entries are deduplicated by key before anything is
// counted, so a replayed handler never counts twice.
package reporting
