// Package dispatch delivers what Vigil concludes to whatever lies outside
// the process: alert receivers today, action executors and event streams
// next. It owns the subscriber contract, the queues, retries and the
// delivery log.
//
// The contract with evaluators: an evaluator writes its state change to
// the store first, as events (store.Event with a typed payload, see
// store.Codec), and only then publishes the events that must leave
// (Dispatcher.Publish). Publishing never blocks and never fails the
// evaluator; a receiver that hangs or refuses holds up nothing but its own
// queue.
//
// The contract with subscribers: each Subscriber names the event types it
// takes and decodes their payloads through the producer's codec. Events
// reach it per tenant, in event time order, in batches it may coalesce
// (a resolution that arrives while the firing is still being retried
// replaces it). It says what it did (a Report, or an error that Permanent
// marks as final); the dispatcher retries the rest with exponential backoff
// and jitter and writes every attempt to the store as a dispatch.delivery
// event (Deliveries).
//
// The contract with the store: the delivery log is how a restart knows
// what was delivered. Recover (on start, or when the caller asks: analyzer
// replicas leave it to the one that owns it, see analyzer.Recovery) reads
// the events of its subscribers' types over MaxAge and the delivery log,
// and queues again every event that no final attempt covers and that is
// newer than the last one that did.
package dispatch
