import { eventLogContract } from '../ports/event-log.contract.ts'
import { inCI, kafkaTestsEnabled, testKafkaBrokers } from '../testing/infra.ts'
import { rdkafkaAvailable } from './rdkafka/ffi.ts'
import { RdKafkaLog } from './rdkafka-log.ts'

// The same contract as the @platformatic/kafka adapter, on librdkafka through bun:ffi, against a
// real broker. Without librdkafka (Debian: librdkafka1) the suite shows as skipped; CI installs it.
eventLogContract('kafka (librdkafka)', {
  enabled: kafkaTestsEnabled && (inCI || rdkafkaAvailable()),
  open: async () =>
    new RdKafkaLog({
      brokers: await testKafkaBrokers(),
      clientId: 'pas-test-rdkafka',
      sessionTimeoutMs: 6_000,
      heartbeatMs: 300,
    }),
  rebalanceTimeoutMs: 30_000,
})
