import { eventLogContract } from '../ports/event-log.contract.ts'
import { kafkaTestsEnabled, testKafkaBrokers } from '../testing/infra.ts'
import { KafkaLog } from './kafka-log.ts'

// A real broker from tools/kafka.sh. Without java/mvn the suite shows as skipped; CI never skips it.
eventLogContract('kafka', {
  enabled: kafkaTestsEnabled,
  open: async () =>
    new KafkaLog({
      brokers: await testKafkaBrokers(),
      clientId: 'pas-test',
      sessionTimeoutMs: 6_000,
      heartbeatMs: 300,
    }),
  rebalanceTimeoutMs: 30_000,
})
