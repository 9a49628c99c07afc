// Package stream publishes Vigil's events (findings, alert transitions,
// action transitions) to the event streams other services consume, as
// CloudEvents 1.0 JSON: a dispatcher subscriber per stream configured in
// the streams: section of the config directory. It owns the message
// format (Message, Encode), the section, the RabbitMQ publisher (AMQP)
// and the Kafka publisher (Kafka); kafkaconn holds the Kafka connection
// settings it shares with the collector's Kafka consumer.
//
// Delivery is at least once: the dispatcher retries an attempt the broker
// did not confirm, so a consumer may see a message twice, always with the
// same id (the event's, deterministic), which is how it dedupes.
package stream
